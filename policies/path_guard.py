"""Which paths a call may read, write, delete, move or chmod: secrets, protected paths, system paths, and the
profile's readable and writable roots.

A path is judged as written (`..` collapsed) and as the physical path it leads to (symlinks followed before `..`
applies, `/proc/self/cwd` as the command's folder; see physical_path.py), and the stricter decision wins, so
neither a traversal, a symlink nor a /proc link leads somewhere protected; a glob is also judged by what it matches
now. Names compare in Unicode NFC form, so an NFD spelling of a protected folder is the same folder;
case-insensitively only where the file system is.
"""

from __future__ import annotations

import fnmatch
import glob
import itertools
import os
import pwd
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from llmos.policies.decision import Decision, Verdict
from llmos.policies.physical_path import UnresolvablePath, physical_path

from llmos.display import escape_for_display

WRITE_ACTIONS = frozenset({"create", "modify", "delete", "move_from", "move_to", "chmod"})
DESTRUCTIVE_ACTIONS = frozenset({"delete", "move_from", "move_to", "chmod"})
# Folders protected as wholes: deleting, moving or chmodding the folder itself is refused; files inside are not.
HOME_WHOLE_FOLDERS = ("Desktop", "Documents", "Downloads", "Music", "Pictures", "Videos", "Public", "Templates",
                      ".config", ".local", ".local/share", ".cache")
# Whole folders whose contents come and go (downloads, caches): emptying them is an ordinary request. The other
# home folders hold a person's own work, so a glob that deletes everything in one (`~/Documents/*`) is refused.
EMPTIABLE_FOLDERS = ("Downloads", ".cache")
SYSTEM_WHOLE_FOLDERS = ("/", "/home", "/Users", "/tmp", "/mnt", "/media")
SYSTEM_ROOTS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/nix", "/opt", "/proc",
                "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/usr", "/var", "/System", "/Library",
                "/Applications", "/private", "/Volumes")
# Protected beneath as well as as wholes, whatever the profile says: a user profile can add to these, never remove.
BUILTIN_DENIED = ("~/.ssh", "~/.gnupg", "~/.local/share/keyrings", "~/.password-store", "~/.pki", "~/.bashrc",
                  "~/.bash_profile", "~/.bash_login", "~/.profile", "~/.zshrc", "~/.zshenv", "~/.zprofile",
                  "~/.config/fish/config.fish", "~/.inputrc", "**/.git/hooks",
                  # A repository's `.git` as a unit, folder or `gitdir:` file: what is inside names the programs
                  # git runs (hooks, config, info/attributes), so neither it nor anything in it is created,
                  # changed, moved or deleted; moving it away and back or pointing it elsewhere is refused too.
                  "**/.git",
                  # Read by the usual .bashrc and by fish at start: as good as an rc file to an attacker.
                  "~/.bash_aliases", "~/.config/fish/functions")
BUILTIN_SECRETS = ("~/.ssh", "~/.gnupg", "~/.local/share/keyrings", "~/.password-store", "~/.pki", "/home/*/.ssh",
                   "/home/*/.gnupg", "/Users/*/.ssh", "/Users/*/.gnupg", "/root/.ssh", "/root/.gnupg")
HARMLESS_DEVICES = re.compile(r"^/dev/(null|zero|full|random|urandom|stdin|stdout|stderr|tty|fd/\d+)$"
                              r"|^/proc/self/fd/\d+$")
GLOB_CHARS = re.compile(r"[*?\[]")
# A glob is judged by its current matches too (their physical paths); past this many, by its pattern alone.
GLOB_MATCH_LIMIT = 2000


def glob_regex(pattern: str, beneath: bool) -> re.Pattern[str]:
    """`**` any depth, `*` and `?` within one name, `[...]` a class; `beneath` also matches everything under."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 2)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1:end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append("[" + body.replace("\\", "\\\\") + "]")
                index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + ("(?:/.*)?" if beneath else "") + r"\Z", re.DOTALL)


class PathGuard:
    """Judges one path for one action. Returns a deny or ask Decision, or None when it has no objection."""

    def __init__(self, *, home: Path, llmos_paths: Sequence[Path] = (), denied: Iterable[str] = (),
                 secrets: Iterable[str] = (), readable_roots: Iterable[str] = ("~",),
                 writable_roots: Iterable[str] = ("~",), case_insensitive: bool | None = None,
                 user_name: str | None = None) -> None:
        self.home = os.path.normpath(str(home))
        self.user_name = user_name
        """`~NAME` for this user is the home given here."""
        self.case_insensitive = sys.platform in ("darwin", "win32") if case_insensitive is None else case_insensitive
        self.readable_roots = self._roots(readable_roots)
        self.writable_roots = self._roots(writable_roots)
        self.llmos_paths = self._roots(str(path) for path in llmos_paths)
        denied_patterns = [self._expand_pattern(p) for p in (*BUILTIN_DENIED, *denied)]
        # A secret root that holds $HOME itself (`/root`, listed for other users' sake) would make the whole home
        # a secret when llmos runs as that user: such a pattern protects someone else's home, not this one's.
        secret_patterns = [p for p in (self._expand_pattern(p) for p in (*BUILTIN_SECRETS, *secrets))
                           if GLOB_CHARS.search(p) or not _holds(p, self.home)]
        self.denied = [(p, glob_regex(self.key(p), beneath=True)) for p in dict.fromkeys(denied_patterns)]
        self.secrets = [(p, glob_regex(self.key(p), beneath=True)) for p in dict.fromkeys(secret_patterns)]
        self.whole_folders = self._roots([self.home, *(os.path.join(self.home, name) for name in HOME_WHOLE_FOLDERS),
                                          *SYSTEM_WHOLE_FOLDERS])
        self.personal_folders = self._roots([self.home, *(os.path.join(self.home, name) for name in HOME_WHOLE_FOLDERS
                                                          if name not in EMPTIABLE_FOLDERS)])
        concrete_denied = [p for p in denied_patterns if not GLOB_CHARS.search(p)]
        self.concrete_secrets = [p for p in secret_patterns if not GLOB_CHARS.search(p)]
        # What a recursive write or a glob must not reach, inside or as a whole (whole folders: only as wholes).
        self.deep_protected = list(dict.fromkeys(
            [*self.llmos_paths, *concrete_denied, *self.concrete_secrets,
             *(root for root in SYSTEM_ROOTS if not self._exempt(root))]))

    # -- spelling ------------------------------------------------------------------------------------------------

    def key(self, path: str) -> str:
        normal = unicodedata.normalize("NFC", path)
        return normal.casefold() if self.case_insensitive else normal

    def _expand_pattern(self, pattern: str) -> str:
        if pattern == "~" or pattern.startswith("~/"):
            return self.home + pattern[1:]
        if not pattern.startswith(("/", "**")):
            return "**/" + pattern
        return pattern

    def _roots(self, roots: Iterable[str]) -> list[str]:
        expanded = []
        for root in roots:
            path = self._expand_pattern(root) if root.startswith("~") else root
            expanded.append(os.path.normpath(path))
        return list(dict.fromkeys(expanded))

    def absolute(self, word: str | Path, cwd: Path | str | None) -> str | None:
        """The absolute path a word names, `..` and links still in it (`~`, `~+`, `~NAME` expanded; relative to
        `cwd`); None when only known at run time (`$X`, `~-`, a relative word where `cwd` is unknown)."""
        text = str(word)
        if "$" in text or "\x00" in text:
            return None
        if text.startswith("~"):
            name, slash, rest = text[1:].partition("/")
            if name == "":
                text = self.home + slash + rest
            elif name == "+":
                text = f"{cwd}{slash}{rest}" if cwd is not None else ""
            elif name == "-":
                return None  # $OLDPWD
            else:
                user_home = self._user_home(name)
                if user_home is not None:
                    text = user_home + slash + rest
        if not text:
            return None
        if not text.startswith("/"):
            if cwd is None:
                return None
            text = os.path.join(str(cwd), text)
        return text

    def _user_home(self, name: str) -> str | None:
        """`~NAME`'s folder: this home for the user llmos runs as, else the account's; None for no such account (the
        shell then keeps the word as written, a relative path)."""
        if name == self.user_name:
            return self.home
        try:
            return os.path.normpath(pwd.getpwnam(name).pw_dir)
        except (KeyError, ValueError):
            return None

    def expand(self, word: str | Path, cwd: Path | str | None) -> str | None:
        """The absolute, `..`-collapsed path a word names as written; None when only known at run time."""
        text = self.absolute(word, cwd)
        return _collapse(text) if text is not None else None

    def physical(self, absolute: str, cwd: Path | str | None) -> list[str]:
        """The physical paths an absolute path (from `absolute`) leads to: one for a plain path; for a glob, its
        literal folder part resolved with the pattern kept, and each current match resolved. Raises
        UnresolvablePath."""
        working = str(cwd) if cwd is not None else None
        match = GLOB_CHARS.search(absolute)
        if match is None:
            return [physical_path(absolute, working)]
        lexical = _collapse(absolute)
        literal_dir, pattern = _split_glob(lexical)
        found = [physical_path(literal_dir, working).rstrip("/") + pattern]
        for matched in itertools.islice(glob.iglob(absolute), GLOB_MATCH_LIMIT):
            found.append(physical_path(matched, working))
        return found

    def names_existing_file(self, word: str, cwd: Path | str | None) -> bool:
        """Whether `word` names something that exists now and is not a folder, as written or physically (a path
        that cannot be resolved counts, so that it is judged)."""
        absolute = self.absolute(word, cwd)
        if absolute is None:
            return False
        try:
            paths = [_collapse(absolute), *self.physical(absolute, cwd)]
        except UnresolvablePath:
            return True
        return any(os.path.lexists(path) and not os.path.isdir(path) for path in paths
                   if not GLOB_CHARS.search(path))

    def working_folder(self, word: str, cwd: Path | str | None) -> str | None:
        """The folder `cd WORD` leads to, or None when it is not known before the command runs: also when `cd -L`
        (`..` after a link, as written) and `cd -P` (physically) would differ."""
        absolute = self.absolute(word, cwd)
        if absolute is None or GLOB_CHARS.search(absolute):
            return None
        lexical = _collapse(absolute)
        try:
            physical = physical_path(absolute, str(cwd) if cwd is not None else None)
            if physical_path(lexical, str(cwd) if cwd is not None else None) != physical:
                return None
        except UnresolvablePath:
            return None
        return lexical if not lexical.startswith(("/proc/", "/dev/")) else physical

    def display(self, path: str) -> str:
        if path == self.home or path.startswith(self.home + "/"):
            path = "~" + path[len(self.home):]
        return escape_for_display(path)

    # -- relations -------------------------------------------------------------------------------------------------

    def _under(self, path: str, root: str) -> bool:
        path_key, root_key = self.key(path), self.key(root)
        return path_key == root_key or path_key.startswith(root_key.rstrip("/") + "/")

    def _exempt(self, path: str) -> bool:
        """Home and the writable roots are never system paths (home may be /root; /tmp may be /private/tmp)."""
        return self._under(path, self.home) or any(self._under(path, root) for root in self.writable_roots)

    @staticmethod
    def _matches(patterns: list[tuple[str, re.Pattern[str]]], key: str) -> str | None:
        return next((pattern for pattern, regex in patterns if regex.match(key)), None)

    def _reached(self, path: str, targets: Iterable[str], recursive: bool, beneath: bool) -> str | None:
        """A target that `path` names, contains (when recursive), or, for a glob, may name or, when `beneath`,
        may name something inside of (`~/.ss?/id_*` reaches ~/.ssh)."""
        is_glob = bool(GLOB_CHARS.search(path))
        pattern_parts = self.key(path).strip("/").split("/") if is_glob else []
        for target in targets:
            if is_glob:
                target_parts = [part for part in self.key(target).strip("/").split("/") if part]
                if _glob_meets(pattern_parts, target_parts, recursive, beneath):
                    return target
            elif recursive and self._under(target, path) and self.key(target) != self.key(path):
                return target
        return None

    # -- judgement -------------------------------------------------------------------------------------------------

    def check(self, word: str | Path, action: str, *, cwd: Path | str | None, recursive: bool = False,
              files_only: bool = False, unknown_program: bool = False) -> Decision | None:
        """`cwd`: the folder the command runs in (None: not known, so relative words are unknown)."""
        absolute = self.absolute(word, cwd)
        if absolute is None:
            # A read of a path known only at run time could be a secret, and the sandbox does not stop reads: deny.
            # A write is asked about: the sandbox keeps writes inside the writable roots.
            if unknown_program:
                return None if action not in WRITE_ACTIONS else Decision(
                    "ask", "path-unknown", f"{escape_for_display(str(word))} is only known when the command runs")
            verdict: Verdict = "deny" if action in ("read", "execute") else "ask"
            return Decision(verdict, "path-unknown", f"{escape_for_display(str(word))} is only known when the command "
                                                     f"runs, so llmos cannot check it is not a secret or protected")
        lexical = _collapse(absolute)
        try:
            physical = self.physical(absolute, cwd)
        except UnresolvablePath as exc:
            return Decision("deny", "path-unresolvable", f"{escape_for_display(str(word))} {exc}, so llmos cannot "
                                                         f"check it is not a secret or protected")
        candidates = list(dict.fromkeys([lexical, *physical]))
        for candidate in candidates:
            decision = self._check_one(candidate, lexical, action, recursive, files_only, unknown_program)
            if decision is not None:
                return decision
        return None

    def _check_one(self, path: str, lexical: str, action: str, recursive: bool, files_only: bool,
                   unknown_program: bool) -> Decision | None:
        shown = self.display(path)
        via_link = "" if path == lexical else f" ({self.display(lexical)} leads there)"
        key = self.key(path)
        if action not in WRITE_ACTIONS:
            secret = self._matches(self.secrets, key) or self._reached(path, self.concrete_secrets, recursive, True)
            if secret is not None:
                return Decision("deny", "secret-path",
                                f"{shown}{via_link} is or holds a secret ({self.display(secret)}); llmos never "
                                f"reads secrets")
            if not unknown_program and not HARMLESS_DEVICES.match(path) \
                    and not any(self._under(path, root) for root in self.readable_roots):
                return Decision("ask", "outside-readable-roots", f"{shown} is outside the folders llmos reads freely")
            return None
        if HARMLESS_DEVICES.match(path) and action in ("create", "modify"):
            return None
        llmos_path = next((root for root in self.llmos_paths if self._under(path, root)), None)
        if llmos_path is not None:
            return Decision("deny", "llmos-files", f"{shown}{via_link} reaches llmos's own files "
                                                   f"({self.display(llmos_path)}); they are never changed by a request")
        denied = self._matches(self.denied, key)
        if denied is not None:
            return Decision("deny", "protected-path",
                            f"{shown}{via_link} is protected ({self._describe(denied)}); llmos never changes it")
        secret = self._matches(self.secrets, key)
        if secret is not None:
            return Decision("deny", "secret-path",
                            f"{shown}{via_link} is a secret ({self.display(secret)}); llmos never changes secrets")
        if action in DESTRUCTIVE_ACTIONS:
            whole = next((folder for folder in self.whole_folders if self.key(folder) == key), None)
            if whole is not None and not (files_only and os.path.isdir(path)):
                return Decision("deny", "protected-folder",
                                f"{shown}{via_link} is a whole standard folder; llmos never deletes, moves or changes "
                                f"the permissions of it (files inside are fine)")
            if action == "delete" and (emptied := self._emptied_folder(path)) is not None:
                return Decision("deny", "protected-folder",
                                f"deleting {shown}{via_link} would empty {self.display(emptied)}, a standard folder of "
                                f"your own files; llmos deletes the files or folders you name in it, never "
                                f"everything at once")
        if unknown_program:
            return None
        if not self._exempt(path) and any(self._under(path, root) for root in SYSTEM_ROOTS):
            return Decision("deny", "system-path", f"{shown}{via_link} is a system path; llmos never changes it")
        is_glob = bool(GLOB_CHARS.search(path))
        if action in DESTRUCTIVE_ACTIONS or recursive or is_glob:
            reached = self._reached(path, self.deep_protected, recursive, True)
            if reached is None and (action in DESTRUCTIVE_ACTIONS or recursive):
                whole = self._reached(path, self.whole_folders, recursive, False)
                if whole is not None and not (files_only and not recursive and os.path.isdir(whole)):
                    reached = whole
            if reached is not None:
                what = "everything under it, including" if recursive else "it may name"
                return Decision("deny", "recursive-protected",
                                f"{action.replace('_', ' ')} {shown} would reach a protected path ({what} "
                                f"{self.display(reached)})")
        if not any(self._under(path, root) for root in self.writable_roots):
            return Decision("deny", "outside-writable-roots",
                            f"{shown}{via_link} is outside the folders llmos may change "
                            f"({', '.join(self.display(root) for root in self.writable_roots) or 'none'})")
        return None

    def _emptied_folder(self, path: str) -> str | None:
        """The personal folder a glob deletes everything in: `~/Documents/*`, `~/Pictures/**`, `~/*/*`'s home (only
        wildcards after the folder; `~/Documents/*.tmp` names some files, not all)."""
        parts = path.rstrip("/").split("/")
        tail: list[str] = []
        while parts and parts[-1] and set(parts[-1]) <= set("*?.") and GLOB_CHARS.search(parts[-1]):
            tail.insert(0, parts.pop())
        # `DIR/*/**` is how the command facts write "some things under DIR" (`find DIR -name X -delete`, whose
        # tests the facts do not model), not everything: such a find is asked about, not refused.
        if not tail or tail == ["*", "**"]:
            return None
        key = self.key("/".join(parts) or "/")
        return next((folder for folder in self.personal_folders if self.key(folder) == key), None)

    def _describe(self, pattern: str) -> str:
        name = self.display(pattern)
        if pattern.endswith("/.git/hooks"):
            return "git hooks run code on every commit"
        if pattern.endswith("/.git"):
            return "a repository's .git folder (or gitdir file) decides which programs git runs"
        if pattern.endswith(("/.git/config", "/.gitconfig", "/git/config")):
            return "git settings can make git run programs"
        if any(part in pattern for part in ("rc", "profile", "config.fish", "inputrc", "zshenv", "bash_login")):
            return f"{name} is a shell startup file"
        return name


def _collapse(path: str) -> str:
    """`..` and `.` collapsed as written (the path's lexical form); `//` at the start is `/` on Linux."""
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return os.path.normpath(path)


def _split_glob(path: str) -> tuple[str, str]:
    """A glob's literal folder (everything before the component with the first glob character) and the rest."""
    match = GLOB_CHARS.search(path)
    if match is None:
        return path, ""
    literal_dir = path[:match.start()].rsplit("/", 1)[0] or "/"
    return literal_dir, path[len(literal_dir):] if literal_dir != "/" else path


def _glob_meets(pattern: list[str], target: list[str], recursive: bool, beneath: bool) -> bool:
    """Whether a path the glob components match is the target, lies inside it (counts when `beneath`), or lies
    above it (counts when `recursive`). `**` matches any number of components."""
    memo: dict[tuple[int, int], bool] = {}

    def meets(p: int, t: int) -> bool:
        if (p, t) in memo:
            return memo[p, t]
        if p == len(pattern):
            result = t == len(target) or recursive
        elif t == len(target):
            result = beneath or all(part == "**" for part in pattern[p:])
        elif pattern[p] == "**":
            result = meets(p + 1, t) or meets(p, t + 1)
        else:
            result = fnmatch.fnmatchcase(target[t], pattern[p]) and meets(p + 1, t + 1)
        memo[p, t] = result
        return result

    return meets(0, 0)


def _holds(folder: str, path: str) -> bool:
    """`path` is `folder` or lies beneath it."""
    folder = os.path.normpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
