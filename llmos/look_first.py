"""Requests about the person's own things are answered from a look, never from the model's imagination.

"Which flat is my letter to the landlord about?" and "what's the combined revenue of the Q1 and Q2 reports?" got
confident answers with no tool call at all ("the heating in my flat", "$120,000"): the model made the facts up,
and with no step there was nothing to check them against. A request that names something of the person's (a
file, folder, document, log, a path, "my ..." things) may not answer on its first turn: it must look first. A
question about the world ("who wrote Don Quixote?") names nothing of the kind and is answered as before."""

from __future__ import annotations

import re

_THINGS = (
    r"files?|folders?|director(?:y|ies)|documents?|docs|letters?|reports?|notes?|notebook|lists?|logs?|"
    r"photos?|pictures?|images?|screenshots?|downloads?|desktop|music|songs?|videos?|movies?|invoices?|"
    r"receipts?|statements?|scripts?|projects?|repos?|repository|code|config|configuration|settings|"
    r"dotfiles?|editor|budget|spreadsheets?|sheets?|csv|pdfs?|todos?|to-dos?|drafts?|archives?|backups?|"
    r"zips?|trip|flight|recipes?|contracts?|passwords?|keys?|home|disk|drive|processes|process|apps?|"
    r"programs?|data|records?|emails?|messages?|bookmarks?|history|calendar|schedule|diary|journal"
)
# "my letter", "our old reports", "the Q1 and Q2 reports", "the shopping list on my desktop"
_NAMED_THING = re.compile(
    rf"\b(?:my|our|mine)\s+(?:[\w'-]+\s+){{0,3}}?(?:{_THINGS})\b"
    rf"|\bthe\s+(?:[\w'-]+\s+){{0,4}}?(?:{_THINGS})\b",
    re.IGNORECASE,
)
# A path or a file name: ~/x, /etc/x, ./x, notes.txt
_PATH = re.compile(r"(?:^|\s)(?:~|\.{1,2})?/[\w.-]|\b[\w-]+\.(?:txt|md|pdf|csv|tsv|log|json|toml|ya?ml|py|sh|"
                   r"conf|cfg|ini|jpe?g|png|gif|zip|tar|gz|tgz|docx?|xlsx?|odt|ods|mp[34]|html?|xml|sql|bak)\b",
                   re.IGNORECASE)


def names_own_things(request: str) -> bool:
    """Whether the request names something of the person's that only a tool can tell about."""
    return bool(_NAMED_THING.search(request) or _PATH.search(request))
