"""What llmos itself finds in a piped log, in one streaming pass: known kernel and system problems by their
signature, counted per device or program ("disk I/O errors: 6 lines, all on sdc"), and, for a log with level
words, the lines per level and the most common error messages with their ids and numbers masked.

These are facts the model cannot get right by reading: a `dmesg` of 300 lines shows disk errors among ACPI
noise, and the 1.5B model counted 28 "disk or error messages" (there were 6, on one disk); an application log's
errors differ in worker, logger and request id, so the most repeated masked line was not the most common message.
The session puts the findings in the prompt as llmos's own note, beside the data.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from llmos.tools.piped.view import DocumentView, clip_line, mask_varying

from llmos.words import singular

MAX_DIGEST_BYTES = 4 << 30
"""A longer input is digested over its first this many bytes, and every finding says so. Large on purpose: a
finding that counted only part of the input is a count the model states as the whole (at a 512 MB cap, a 1 GB
log's "83651 lines containing ERROR" was half the real count)."""
MAX_MESSAGES = 10_000
"""Distinct error messages counted; rarer ones beyond this are not."""
SHOWN_MESSAGES = 3
SHOWN_SUBJECTS = 4
MESSAGE_CHARS = 100


@dataclass(frozen=True)
class Signature:
    problem: str
    """What the lines mean, as a count's noun ("disk I/O errors")."""
    clue: str
    """Literal text every such line holds: lines are tested only where a clue is (a combined regex of the
    patterns took 12 s over a 50 MB log; the clues take 0.4 s)."""
    pattern: re.Pattern[str]
    """Matches such a line; its first group that matched names the device or program."""
    names_subject: bool = True
    """Whether the sentence says which devices or programs (a call trace or an ACPI error has none worth it)."""


SIGNATURES = (
    Signature("disk I/O errors", "I/O error|medium error|EXT4-fs error|] tag#", re.compile(
        r"I/O error,? dev (\w+)|Buffer I/O error on dev(?:ice)? (\w+)|critical medium error,? dev (\w+)"
        r"|EXT4-fs error \(device (\w+)\)|\[(sd[a-z]+)\] tag#\d+ (?:FAILED|Sense Key : Medium Error)")),
    Signature("ATA link errors", "exception Emask|failed command|SError:",
              re.compile(r"\b(ata\d+)(?:\.\d+)?: (?:exception Emask|failed command|SError:)")),
    Signature("out-of-memory kills", "Out of memory", re.compile(r"Out of memory: Killed process \d+ \(([^)]+)\)")),
    Signature("segfaults", "segfault at", re.compile(r"(\S+?)\[\d+\]: segfault at ")),
    Signature("filesystems remounted read-only", "Remounting filesystem",
              re.compile(r"\((\w+)\): Remounting filesystem read-only")),
    Signature("NFS server timeouts", "not responding", re.compile(r"nfs: server (\S+) not responding")),
    Signature("CPU temperature warnings", "temperature above",
              re.compile(r"(CPU\d+): (?:Package|Core) temperature above threshold")),
    Signature("network links going down", "Link is Down", re.compile(r"\b(\w+): Link is Down")),
    Signature("USB disconnects", "USB disconnect", re.compile(r"usb (\S+): USB disconnect")),
    Signature("kernel call traces", "Call Trace", re.compile(r"(Call Trace):"), names_subject=False),
    Signature("firmware (ACPI) errors", "ACPI", re.compile(r"(ACPI) (?:BIOS )?Error"), names_subject=False),
)
_CLUES = re.compile("|".join(re.escape(clue) for signature in SIGNATURES for clue in signature.clue.split("|")))
_LEVELS = "TRACE|DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|FATAL|CRITICAL"
_LEVEL_WORD = re.compile(rf"^\[?({_LEVELS})\]?:?$")
LEVEL_SHARE = 0.8
"""A log has a level column when this share of its first lines hold a level word at the same field."""
MAX_LEVEL_FIELD = 4
_PREFIX_TOKEN = re.compile(
    r"^(?:\[[^\]]*\]|[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+:?|[\w.-]+=\S*\d\S*|-|:)\s+")
"""A field before a log message: `[worker-5]`, a dotted logger name, `request_id=ab12`."""
_LEVEL_ORDER = ("FATAL", "CRITICAL", "ERROR", "WARNING", "WARN", "NOTICE", "INFO", "DEBUG", "TRACE")


@dataclass
class _Problem:
    lines: int = 0
    first: int = 0
    last: int = 0
    subjects: Counter[str] = field(default_factory=Counter)


def error_message(rest: str) -> str:
    """An error line's message without its leading fields, numbers and ids masked: the same message from two
    workers, loggers or requests reads the same."""
    text = rest.strip()
    while (prefix := _PREFIX_TOKEN.match(text)) is not None:
        text = text[prefix.end():]
    return clip_line(mask_varying(text), MESSAGE_CHARS)


def log_findings(view: DocumentView) -> list[str]:
    """Sentences of what the piped log shows (empty when it is not such a log or shows nothing)."""
    level_field = _level_field([line.text for line in view.head(200)])
    # Anchored at the line start and the level's field, so the scan runs at C speed (a lazy search for a level
    # word anywhere in each line's start took 15 s over 50 MB).
    skip = rf"(?:\S+\s+){{{level_field}}}" if level_field is not None else ""
    level_line = re.compile(rf"^{skip}\[?({_LEVELS})\b", re.MULTILINE) if level_field is not None else None
    error_line = re.compile(rf"^{skip}\[?(?:ERROR|FATAL|CRITICAL)\b[ :\]]*([^\n]*)", re.MULTILINE)
    problems: dict[str, _Problem] = {}
    tracebacks = _Tracebacks()
    uptime: str | None = None
    levels: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    read = 0
    cut = False
    for first_number, block in view.blocks():
        if read >= MAX_DIGEST_BYTES:
            cut = True
            break
        read += len(block) + 1
        if level_line is not None:
            levels.update(level_line.findall(block))
            for message in error_line.findall(block):
                text = error_message(message)
                if text in messages or len(messages) < MAX_MESSAGES:
                    messages[text] += 1
        if tracebacks.inside or TRACEBACK_START in block:
            tracebacks.read(first_number, block.split("\n"))
        if uptime is None and "load average" in block:
            uptime = _uptime(block)
        if _CLUES.search(block) is None:
            continue
        for index, text in enumerate(block.split("\n")):
            if _CLUES.search(text) is not None:
                _note_problem(problems, first_number + index, text)
    findings = [_problem_sentence(signature, problems[signature.problem]) for signature in SIGNATURES
                if signature.problem in problems]
    findings.extend(tracebacks.sentences())
    if uptime is not None:
        findings.append(uptime)
    if sum(levels.values()) and (levels.keys() & {"ERROR", "FATAL", "CRITICAL", "WARNING", "WARN"}):
        findings.append(_levels_sentence(levels, messages))
    if cut:
        findings = [f"in the first {MAX_DIGEST_BYTES >> 20} MB only: {finding}" for finding in findings]
    return findings


_UPTIME = re.compile(r"\bup\s+(.+?),\s+(\d+)\s+users?,\s+load averages?:\s*([\d.]+),?\s+([\d.]+),?\s+([\d.]+)")


def _uptime(block: str) -> str | None:
    """`uptime`'s line read out: its three load averages are over 1, 5 and 15 minutes, in that order (asked for
    the 15-minute one, the model gave the first)."""
    matched = _UPTIME.search(block)
    if matched is None:
        return None
    up, users, one, five, fifteen = matched.groups()
    return (f"load average over the last 1 minute: {one}, 5 minutes: {five}, 15 minutes: {fifteen}; "
            f"up {up}; {users} users logged in")


TRACEBACK_START = "Traceback (most recent call last):"
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)(?:, in (\S+))?')
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Fault))\b:?\s*(.*)$")


@dataclass
class _Raised:
    line: int
    """The piped line the exception is on."""
    exception: str
    frame: tuple[str, str, str | None] | None
    """(file, line, function) of the innermost frame: where it was raised."""


class _Tracebacks:
    """Python tracebacks, read line by line where one starts: the exception and the frame that raised it (the
    last `File "...", line N` before the exception line). The 1.5B model, shown a four-line traceback, gave the
    piped line number of the failing statement (4) instead of the line of the code (42)."""

    def __init__(self) -> None:
        self.inside = False
        self.frame: tuple[str, str, str | None] | None = None
        self.raised: list[_Raised] = []

    def read(self, first_number: int, lines: list[str]) -> None:
        for index, text in enumerate(lines):
            if text.startswith(TRACEBACK_START):
                self.inside, self.frame = True, None
            elif not self.inside:
                continue
            elif (frame := _FRAME.match(text)) is not None:
                self.frame = (frame.group(1), frame.group(2), frame.group(3))
            elif text[:1].isspace() or not text.strip():
                continue  # the frame's source line, or a blank line
            else:
                self.inside = False
                exception = _EXCEPTION.match(text.strip())
                if exception is not None and len(self.raised) < MAX_MESSAGES:
                    self.raised.append(_Raised(first_number + index, clip_line(text.strip(), MESSAGE_CHARS),
                                               self.frame))

    def sentences(self) -> list[str]:
        if not self.raised:
            return []
        last = self.raised[-1]
        where = ""
        if last.frame is not None:
            path, line, function = last.frame
            where = f", raised in {path} at line {line}" + (f" (in {function})" if function else "")
        if len(self.raised) == 1:
            # No piped line number: beside the code's line it was the number the model repeated.
            return [f"Python exception {last.exception}{where}"]
        kinds = Counter(raised.exception.split(":", 1)[0] for raised in self.raised)
        counted = ", ".join(f"{kind} ({count})" for kind, count in kinds.most_common(SHOWN_SUBJECTS))
        return [f"Python tracebacks: {len(self.raised)} ({counted}); the last: {last.exception}{where} "
                f"(piped line {last.line})"]


def _level_field(head: list[str]) -> int | None:
    """Which whitespace-separated field of a line holds its level (`2024-05-14T09:00:00Z ERROR ...`: 1), when
    most of the first lines agree; None when the log has no level column."""
    lines = [text for text in head if text.strip()]
    fields = Counter(index for text in lines
                     for index, word in enumerate(text.split(None, MAX_LEVEL_FIELD + 1)[:MAX_LEVEL_FIELD + 1])
                     if _LEVEL_WORD.match(word))
    if not fields:
        return None
    index, count = fields.most_common(1)[0]
    return index if count >= LEVEL_SHARE * len(lines) else None


def _note_problem(problems: dict[str, _Problem], number: int, text: str) -> None:
    for signature in SIGNATURES:
        matched = signature.pattern.search(text)
        if matched is None:
            continue
        subject = next((group for group in matched.groups() if group), "?")
        problem = problems.setdefault(signature.problem, _Problem(first=number))
        problem.lines += 1
        problem.last = number
        problem.subjects[subject] += 1
        return


def _problem_sentence(signature: Signature, problem: _Problem) -> str:
    where = f"line {problem.first}" if problem.lines == 1 else f"lines {problem.first} to {problem.last}"
    subjects = problem.subjects.most_common(SHOWN_SUBJECTS)
    if not signature.names_subject:
        on = ""
    elif len(problem.subjects) == 1:
        on = f"all on {subjects[0][0]}" if problem.lines > 1 else f"on {subjects[0][0]}"
    else:
        on = "on " + ", ".join(f"{subject} ({count})" for subject, count in subjects)
        if len(problem.subjects) > SHOWN_SUBJECTS:
            on += f" and {len(problem.subjects) - SHOWN_SUBJECTS} more"
    lines = "1 line" if problem.lines == 1 else f"{problem.lines} lines"
    return f"{signature.problem}: {lines}{', ' + on if on else ''} ({where})"


def _levels_sentence(levels: Counter[str], messages: Counter[str]) -> str:
    counted = ", ".join(f"{level} {levels[level]}" for level in _LEVEL_ORDER if levels[level])
    sentence = f"lines per level: {counted}"
    if messages:
        common = "; ".join(f"\"{message}\" {count} time{'' if count == 1 else 's'}"
                           for message, count in messages.most_common(SHOWN_MESSAGES))
        sentence += f"; most common error messages (numbers and ids as #): {common}"
    return sentence


_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset("""
    a an and any are is was were there here this these that those it its in on of for the to from my me please tell
    show
    what which whats do does did have has had got see find check look give list i you we log logs input data piped
    stdin output text file kernel dmesg
""".split())
_YES_NO = re.compile(r"^\s*(?:are there|is there|were there|was there|any|do i have|did it)\b", re.IGNORECASE)


def _stems(text: str) -> set[str]:
    """The words of `text` (filler left out) with a plural's s dropped."""
    return {singular(word) for word in _WORD.findall(text.lower()) if word not in _FILLER}


_TROUBLE_WORDS = _stems("wrong went go going happened happen fail failed failure crash crashed broke broken error "
                        "problem issue why cause caused")
"""What "what went wrong", "why did it crash", "what's the error" ask: an exception that was raised says it."""
_EXCEPTION_FINDINGS = ("Python exception", "Python tracebacks")


def findings_answering(request: str, findings: list[str]) -> list[str]:
    """The findings that answer the request by themselves: every word the request asks about (beside filler
    like "any", "this log") is in the finding ("any disk errors?" -> "disk I/O errors: 6 lines, all on sdc ...").
    Empty when the request asks for anything a finding does not say (a count of lines holding a word, what went
    wrong on which line, a change)."""
    asked = {word for word in _stems(request) if not word.isdigit() and len(word) > 1}  # "what's" leaves an s
    numbers = {word for word in _stems(request) if word.isdigit()}
    if not asked:
        return []
    # A number the request names ("on line 80") must be the finding's too; an exception answers what went wrong.
    return [finding for finding in findings if numbers <= _stems(finding)
            and asked <= _stems(finding) | (_TROUBLE_WORDS if finding.startswith(_EXCEPTION_FINDINGS) else set())]


def findings_answer(request: str, findings: list[str]) -> str | None:
    """llmos's answer from its own findings, when they answer the request (`findings_answering`)."""
    answering = findings_answering(request, findings)
    if not answering:
        return None
    opening = "Yes. " if _YES_NO.search(request) else ""
    return opening + findings_text(answering)


ANSWER_HEADING = "llmos read all of the input and found:"
NOTE_HEADING = "llmos counted these in all of the piped data:"
"""The prompt's note above the findings (the answer's heading speaks to a person instead)."""


def findings_text(findings: list[str], heading: str = ANSWER_HEADING) -> str:
    return heading + "\n" + "\n".join(f"- {finding}" for finding in findings)
