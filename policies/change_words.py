"""The words by which a request asks for a change, in one place, and the sets each reader takes from them.

The vocabulary is the intent table's write, delete and process words (`policies/intent.py`), and the change verbs
that table files in no change class. Each reader chooses its set from it, explicitly, because they want
different things:

- intent gates which effect classes a request may use. It takes the whole table, but a word counts only where
  it tells llmos to act (a verb starting a clause; a word after "make", "set", ...), never as a noun or a
  participle in a question ("which files were moved?", "my backup folder"): those allow read only.
- the session's look-then-change nudge (`CLAUSE_CHANGE_VERBS`) fires only on a clause that starts with a change
  verb ("archive X, then delete it"). It is narrow on purpose: with the broad words, "what are the permissions on
  x?" lost its answer to a nudge to change something.
- the fast path (`FAST_PATH_CHANGE_WORDS`) hands a request that says any of its words, anywhere, to the model:
  its answers are for questions only, and a miss costs just a model call.

A reader's set can only name words of the vocabulary (checked on import), so a new change word is added here once
and then chosen into the readers it is meant for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from llmos.policies.intent import INTENT_WORDS

from llmos.effects import Effect

OTHER_CHANGE_VERBS: tuple[str, ...] = (
    "change", "clean", "clear", "empty", "end", "free up", "install", "make", "reduce", "set", "shut",
    "sort out",
)
"""Change verbs the intent table has in no change class: alone they say too little about which class a request
asks for (the table has them only inside phrases: "make a folder", "empty the", "end the process"), or the table
files them elsewhere ("install" is exec and network)."""

CHANGE_WORDS: tuple[str, ...] = (*INTENT_WORDS[Effect.WRITE], *INTENT_WORDS[Effect.DELETE],
                                 *INTENT_WORDS[Effect.PROCESS], *OTHER_CHANGE_VERBS)
"""Every word or phrase by which a request may ask for a change: the vocabulary the readers choose from."""


def _chosen(*words: str) -> tuple[str, ...]:
    """`words`, each of which must be in the vocabulary."""
    unknown = [word for word in words if word not in CHANGE_WORDS]
    if unknown:
        raise ValueError(f"not in the change vocabulary (policies/change_words.py): {', '.join(unknown)}")
    return words


CLAUSE_CHANGE_VERBS = _chosen(
    "move", "copy", "write", "save", "delete", "remove", "archive", "zip", "compress", "extract", "unzip", "rename",
    "append", "add", "put", "make", "create", "chmod", "edit", "change", "update", "replace", "back up", "tidy",
    "organise", "organize", "clean", "empty", "wipe", "trash", "erase", "purge", "overwrite", "fix", "bump", "mark",
    "set",
)
"""The verbs that, starting a clause, tell llmos to make a file change (the session's look-then-change nudge):
"find the shell scripts in ~/projects, set them all to 755" had been answered with the count the find gave."""

FAST_PATH_CHANGE_WORDS = _chosen(
    "kill", "terminate", "stop", "end", "quit", "close", "delete", "remove", "erase", "trash", "move", "copy",
    "rename", "create", "make", "write", "edit", "change", "set", "install", "uninstall", "clean", "clear",
    "free up", "reduce", "fix", "restart", "shut", "sort out", "empty",
)
"""The words that, anywhere in a request, send it to the model instead of the fast path."""


def words_pattern(words: Sequence[str]) -> str:
    """A regex group matching any of `words` exactly as written (no inflections), case as the caller compiles it;
    the words of a phrase with any spacing between them."""
    return "(?:" + "|".join(r"\s+".join(re.escape(part) for part in word.split()) for word in words) + ")"
