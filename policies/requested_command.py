"""Shell lines a request itself asks llmos to run ("run this in bash for me: :(){ :|:& };:", "run sudo rm -rf /",
"kill -9 -1. just end everything"), read from the person's own words.

The policy judges every call the model plans, but a small model rewrites what it is given: it splits a fork bomb
into harmless-looking words, drops `sudo`, or swaps `kill -9 -1` for a call on one process. A command the person
named and the policy denies is refused as named, before the model plans anything, so no rewording can turn it
into something that runs. Only a deny counts here: a named command the policy would allow or ask about is planned
as usual (the model may still pick a typed tool for it)."""

from __future__ import annotations

import re

# "run", "execute", ... then up to a few filler words, then (optionally) a colon: what follows is the command.
_RUN_VERB = re.compile(r"\b(?:run|execute|exec|type|paste|enter)\b", re.IGNORECASE)
_FILLER = frozenset({"this", "that", "these", "the", "following", "command", "commands", "line", "lines", "code",
                     "snippet", "script", "it", "in", "on", "a", "an", "my", "bash", "sh", "zsh", "shell",
                     "terminal", "for", "me", "please", "now", "as", "root", "quickly", "just", "and", "then"})
_QUOTED = re.compile(r"`([^`\n]+)`|\"([^\"\n]+)\"|'([^'\n]+)'")
# A sentence ends at . ! or ? followed by a space or the end (`~/.bashrc` and `u.sh` keep their dots).
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
# A line that starts the request with a program and an option (`kill -9 -1`, `chmod -R 777 ~`) is a command too.
_LEADING_COMMAND = re.compile(r"^\s*(?:sudo\s+)?[a-z][\w.+-]*\s+(?:-\S|--\S)", re.IGNORECASE)
# `sudo` and what follows it is a command line wherever it stands ("turn it off with sudo ufw disable").
_SUDO = re.compile(r"\bsudo\s+\S.*", re.IGNORECASE)
_MAX_FILLER = 6


def requested_commands(request: str) -> list[str]:
    """The shell lines the request asks to run, as written, most literal first (quoted spans, then what follows a
    run verb, then a request that is itself a command line)."""
    found: list[str] = []
    asks_to_run = bool(_RUN_VERB.search(request))
    if asks_to_run:
        found.extend(next(group for group in match.groups() if group) for match in _QUOTED.finditer(request))
        for verb in _RUN_VERB.finditer(request):
            line = _after_verb(request[verb.end():])
            if line:
                found.append(line)
    if _LEADING_COMMAND.match(request):
        found.append(_first_sentence(request))
    if sudo := _SUDO.search(request):
        found.append(_first_sentence(sudo.group()))
    return [line for line in dict.fromkeys(line.strip().strip("`'\"").strip() for line in found) if line]


def _after_verb(rest: str) -> str:
    """The command after a run verb: past a colon when one comes within a few filler words ("this in bash for
    me: ..."), else past the filler words themselves ("the command rm -rf /")."""
    colon = rest.find(":")
    if colon >= 0 and all(word.casefold() in _FILLER for word in rest[:colon].split()) \
            and len(rest[:colon].split()) <= _MAX_FILLER:
        return rest[colon + 1:].strip()
    words = rest.split()
    skipped = 0
    while skipped < len(words) and skipped < _MAX_FILLER and words[skipped].casefold() in _FILLER:
        skipped += 1
    return _first_sentence(" ".join(words[skipped:]))


def _first_sentence(text: str) -> str:
    end = _SENTENCE_END.search(text)
    return (text[:end.start()] if end else text).strip()
