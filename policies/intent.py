"""Which effect classes a request may use, decided from the request's own words before any untrusted content
(a file, stdin, command output) is read. "summarize ~/notes.txt" allows only read, so text inside the file cannot
make llmos write, delete, kill or reach the network, even with --yes.

Reading is always allowed; `secret` never is (secrets are managed by `llmos secrets`, not by the model). The table
below is the whole of it: word stems per effect class, matched case-insensitively on word boundaries, with
simple inflections (delete, deletes, deleted, deleting, deletion). A word right after a negation ("don't delete",
"without deleting") does not count. Program names are not words for effects ("run rm -rf ~" asks only to run a
command): a command's own deletes and writes then need the request to ask for them, which steers changes to the
typed, journaled tools. The deleting programs are the exception: "rm -rf ~/build" asks for a delete as plainly as
"delete ~/build" does.
"""

from __future__ import annotations

import re
from functools import lru_cache

from llmos.effects import Effect

ALWAYS_ALLOWED = frozenset({Effect.READ})

# effect class -> words and phrases that ask for it. Phrases match their words in order with any spacing.
INTENT_WORDS: dict[Effect, tuple[str, ...]] = {
    Effect.WRITE: (
        "create", "write", "save", "edit", "modify", "update", "append", "insert", "rename", "move", "copy",
        "duplicate", "organize", "organise", "sort into", "tidy", "make a folder", "make a directory",
        "make folder", "make directory", "new folder", "new directory", "compress", "archive",
        "zip", "tar", "extract", "unzip", "untar", "unpack", "decompress", "chmod", "chown", "permission",
        "executable", "replace", "rewrite", "overwrite", "fix", "back up", "backup", "put", "restore", "download",
        "convert", "add a line", "add line", "prepend", "change the permission", "change permission",
        "wipe the contents", "clear the contents", "empty the file", "truncate", "blank out",
    ),
    Effect.DELETE: (
        "delete", "remove", "erase", "clean up", "cleanup", "clean out", "clear out", "trash", "purge", "wipe",
        "get rid of", "empty the", "empty out", "prune", "uninstall", "destroy", "discard", "nuke", "blow away",
        # The deleting programs' names, typed as the request ("rm -rf ~/build"), ask for a delete: the typed,
        # journaled files.delete does it (and the engine still refuses the home folder or a system path).
        "rm", "rmdir", "unlink", "shred",
    ),
    Effect.PROCESS: (
        "kill", "stop", "terminate", "end the process", "end process", "end task", "end the program", "quit",
        "close", "start", "launch", "open", "restart", "renice", "priority", "prioritize", "prioritise",
        "suspend", "pause", "resume", "freeze", "unfreeze", "signal",
    ),
    Effect.EXEC: (
        "run", "execute", "command", "shell", "script", "install", "build", "compile", "git", "invoke", "test",
        "lint", "benchmark", "bash", "python", "npm", "pip", "cargo", "make target", "terminal",
    ),
    Effect.NETWORK: (
        "download", "fetch", "upload", "url", "http", "https", "curl", "wget", "ping", "internet", "online",
        "website", "web page", "webpage", "web", "install", "clone", "pull", "push", "ssh", "scp", "rsync",
        "api", "dns", "host", "server",
    ),
}
_NEGATION = re.compile(r"(?:\bdon'?t|\bdo not|\bnever|\bwithout|\bnot|\bno)\s+(?:\w+\s+){0,1}$")
_URL = re.compile(r"\b(?:https?|ftp)://|\bwww\.", re.IGNORECASE)
# Paths and folder names are not requests: "~/.ssh" does not ask for ssh, "my Downloads" does not ask to download.
_NOT_WORDS = re.compile(r"\S*[/~]\S*|\bdownloads\b", re.IGNORECASE)


def _inflected(word: str) -> str:
    """A regex for `word` with simple inflections: -s, -es, -ed, -ing, -ion, -er; y -> ies; a final e dropped."""
    if word.endswith("e"):
        base, endings = word[:-1], "(?:e|es|ed|ing|ion|ions|er|ers)"
    elif word.endswith("y") and len(word) > 2:
        base, endings = word[:-1], "(?:y|ies|ied|ying)"
    else:
        doubled = re.escape(word[-1]) + "?" if word[-1] in "bdgmnprtz" else ""
        base, endings = word, f"{doubled}(?:s|es|ed|ing|ion|ions|er|ers)?"
    return re.escape(base) + endings


def _pattern(phrase: str) -> str:
    """The first word inflected, the rest as written: "cleaning up", "getting rid of"."""
    first, *rest = phrase.split()
    return r"\b" + r"\s+".join([_inflected(first), *(re.escape(word) for word in rest)]) + r"\b"


@lru_cache(maxsize=1)
def _compiled() -> dict[Effect, list[tuple[str, re.Pattern[str]]]]:
    return {effect: [(phrase, re.compile(_pattern(phrase), re.IGNORECASE)) for phrase in phrases]
            for effect, phrases in INTENT_WORDS.items()}


def intent_matches(request: str) -> dict[Effect, list[str]]:
    """For each effect class, the words of the table the request uses (negated uses left out)."""
    found: dict[Effect, list[str]] = {}
    words = _NOT_WORDS.sub(" ", request)
    for effect, patterns in _compiled().items():
        for phrase, pattern in patterns:
            for match in pattern.finditer(words):
                if not _NEGATION.search(words[:match.start()].lower()[-40:]):
                    found.setdefault(effect, []).append(phrase)
                    break
    if _URL.search(request):
        found.setdefault(Effect.NETWORK, []).append("a URL")
    return found


def allowed_effects_for(request: str) -> frozenset[Effect]:
    """The effect classes a request's own words allow: always read, never secret."""
    return ALWAYS_ALLOWED | frozenset(intent_matches(request))
