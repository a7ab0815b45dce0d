"""What llmos can do, said by llmos from its own tool list when a person asks it ("What can you do?").

The 1.5B model answered "I can answer questions, provide information, and assist with tasks.": true of any
assistant, and nothing a person can act on. What llmos can do is a fact of llmos, its registered tools, so the
answer is made from them: each tool is named in plain words under what kind of thing it works on, and a tool that
is not registered (a smaller build, a plugin removed) is not claimed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from llmos.effects import Effect

_ASKS_WHAT_LLMOS_DOES = re.compile(
    r"^\W*(?:(?:hey|hi|hello|ok|okay|so|llmos)\W+)*(?:"
    r"what (?:can|could|do) (?:you|llmos) (?:do|help (?:me )?with)(?: for me)?|"
    r"what (?:are you|is llmos|'s llmos)(?: able to do| for| capable of)?|what's llmos|who are you|"
    r"what are your (?:capabilities|features|skills|abilities|tools)|what tools do you have|"
    r"how (?:can|could) you help(?: me)?|what can i ask(?: you)?|help(?: me)?"
    r")\W*$",
    re.IGNORECASE)

PLAIN_WORDS: dict[str, str] = {
    "files.list": "list folders",
    "files.find": "find files by name, size or age",
    "files.read": "read text files",
    "files.stat": "show a file's details",
    "files.search": "search inside text files",
    "files.disk_usage": "measure what takes up space",
    "files.hash": "compute checksums",
    "files.write": "write text files",
    "files.append": "add to them",
    "files.edit": "edit their lines",
    "files.mkdir": "make folders",
    "files.copy": "copy",
    "files.move": "move and rename",
    "files.delete": "delete",
    "files.chmod": "change permissions",
    "files.archive": "pack archives",
    "files.extract": "unpack them",
    "process.list": "list the running programs",
    "process.info": "show one of them",
    "process.signal": "stop, kill, pause or resume one",
    "process.renice": "change its priority",
    "system.info": "show its CPU, memory, disks, network and battery",
    "system.health": "explain why it is slow",
    "shell.run": "run a command in a sandbox when no other tool fits",
}
"""Each registered tool in a person's words (`answer` is how llmos replies, not something it does)."""

_GROUPS: tuple[tuple[str, str], ...] = (
    ("Look at files", r"files\.(?:list|find|read|stat|search|disk_usage|hash)"),
    ("Change files", r"files\..*"),
    ("Programs", r"process\..*"),
    ("This computer", r"system\..*"),
    ("Commands", r"shell\..*"),
)


def asks_what_llmos_does(request: str) -> bool:
    """Whether `request` asks what llmos is or can do ("What can you do?", "who are you", "help")."""
    return _ASKS_WHAT_LLMOS_DOES.match(request) is not None


def self_description(tools: Iterable[tuple[str, Effect]]) -> str:
    """llmos's account of itself from its registered `tools` (name, effect): what it can do, grouped, then how
    changes are kept safe (when it has any) and what it cannot do."""
    names = [name for name, _effect in tools if name in PLAIN_WORDS]
    changes = any(effect is not Effect.READ for name, effect in tools if name in PLAIN_WORDS)
    lines = ["I'm llmos, an assistant for this computer. I work offline, with its files, programs and settings:"]
    placed: set[str] = set()
    for title, pattern in _GROUPS:
        members = [name for name in names if name not in placed and re.fullmatch(pattern, name)]
        if members:
            placed.update(members)
            lines.append(f"- {title}: {'; '.join(PLAIN_WORDS[name] for name in members)}.")
    lines.append("- Read what you pipe in: `some-command | llmos-ask \"what does this say?\"`.")
    if changes:
        lines.append("Every change is checked by the policy first (by default, llmos asks you before it changes "
                     "anything), and `llmos undo` reverses file changes.")
    lines.append("I can't browse the web, send email or messages, or book, buy or pay for anything.")
    return "\n".join(lines)
