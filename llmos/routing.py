"""Tools offered only when the request's words are about what they look at.

`system.info` and `system.health` answer questions about this machine (its processor, memory, disks, network,
OS, uptime, battery, sensors; what is slowing it). Offered for every read request, the small model reached for
them on questions about the world ("who won the world series", "the weather in Paris", "the bitcoin price"),
whose answer it then took from the machine's facts or made up. A request that names nothing about the machine is
not offered them; `system.health` is offered only when the request says the machine is not doing well. Every
other tool is offered as before. The words are the vocabulary people use for a
computer's state, checked against the examples library (`tests/unit/test_routing.py`), not the eval suite."""

from __future__ import annotations

import re
from collections.abc import Sequence

from llmos.tools.registry import ToolSpec

_MACHINE_WORDS = (
    # the machine itself
    r"computers?|machines?|laptops?|desktop pc|pc|workstation|server|box|hardware|specs?|system|this device",
    # processor, memory, storage
    r"cpus?|processors?|cores?|threads?|load|ram|memory|swap|disks?|drives?|ssd|hdd|nvme|storage|space|"
    r"partitions?|mount points?|mounted|filesystems?|usb|full|free|gb|gigabytes?|tb|terabytes?",
    # network
    r"ip|ip address|network|wifi|wi-fi|wireless|ethernet|mac address|internet|online|offline|connected|"
    r"connection|bandwidth|interfaces?|hostname|host name|dns|traffic|data sent|data received",
    # operating system
    r"os|operating system|linux|distro|distribution|ubuntu|debian|fedora|arch|kernel|version|release|"
    r"architecture|x86|x86_64|amd64|arm|arm64|aarch64|64-bit|32-bit",
    # time up, power, sensors
    r"uptime|up time|boot|booted|restart(?:ed)?|reboot(?:ed)?|battery|charge|charging|charger|plugged|"
    r"temperatures?|temps?|hot|warm|heat|overheating|fans?|rpm|sensors?|gpu|graphics",
    # how it is doing
    r"slow|sluggish|laggy|lag|lagging|freez\w*|frozen|hangs?|hanging|stutter\w*|unresponsive|crash\w*|"
    r"diagnos\w*|apps?|applications?|fast|performance|resources?|health|healthy|status|state|usage|busy|"
    r"running out",
)
_MACHINE = re.compile(r"\b(?:" + "|".join(_MACHINE_WORDS) + r")\b", re.IGNORECASE)

_TROUBLE = re.compile(
    r"\b(?:slow\w*|sluggish|crawl\w*|lag\w*|stutter\w*|freez\w*|frozen|hang\w*|unresponsive|crash\w*|"
    r"bog\w* down|bogging|takes? forever|diagnos\w*|performance|health\w*|wrong|problems?|issues?|hot|"
    r"overheat\w*|fans?|running out|struggl\w*|resources?|busy)\b", re.IGNORECASE)
"""How people say the machine is not doing well: `system.health` diagnoses that. Asked "what's eating my memory?
show the top processes", the 1.5B model ran the health check instead of listing the processes."""

TOPIC_TOOLS = {"system.info": _MACHINE, "system.health": _TROUBLE}
"""Tool name -> the words one of which a request must contain for the tool to be offered."""


def on_topic(request: str, specs: Sequence[ToolSpec]) -> list[ToolSpec]:
    """`specs` without the topic tools whose subject the request never mentions."""
    return [spec for spec in specs if (topic := TOPIC_TOOLS.get(spec.name)) is None or topic.search(request)]


_EDIT_IN_PLACE = re.compile(
    r"\b(?:mark|tick|check|cross)\b.{0,60}\b(?:as )?(?:done|complete|completed|finished|off)\b|"
    r"\b(?:bump|change|update|set|replace)\b.{0,60}\b(?:to|with)\b",
    re.IGNORECASE)
_ADDS_OR_REWRITES = re.compile(
    r"\b(?:add|append|insert|create|write|save|overwrite|wipe|empty|new file|copy|move|put|make a|contents?|"
    r"whole file)\b", re.IGNORECASE)
WHOLE_FILE_WRITERS = frozenset({"files.append", "files.write"})
"""Tools that add to a file or replace it whole: not offered to a request that asks to change its lines in place."""


def edits_in_place(request: str) -> bool:
    """Whether the request asks to change lines of a file where they are ("mark 'renew passport' as done in
    todo.md", "bump flask to 3.0.3 in requirements.txt") and says nothing of adding or rewriting. Offered
    `files.append`, the 1.5B model appended "renew passport" to the list instead of ticking the line it had
    (an edit is offered only after a read of the file, so the model must read it first)."""
    return bool(_EDIT_IN_PLACE.search(request)) and not _ADDS_OR_REWRITES.search(request)


def for_edits_in_place(request: str, specs: Sequence[ToolSpec]) -> list[ToolSpec]:
    """`specs` without the whole-file writers when the request edits in place (and `files.edit` is among them)."""
    if not edits_in_place(request) or not any(spec.name == "files.edit" for spec in specs):
        return list(specs)
    return [spec for spec in specs if spec.name not in WHOLE_FILE_WRITERS]
