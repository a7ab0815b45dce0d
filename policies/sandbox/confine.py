"""What the sandbox hides and keeps read-only: found, at run time, from the same secret and protected patterns the
policy judges paths by, so the sandbox backs up every promise the profile makes (principle 8).

`Confinement` carries the patterns (absolute, `~` expanded): secrets to hide, protected paths to keep read-only
inside the writable roots, and llmos's own folders to hide. `mounts_for` turns them into concrete paths for one
run:

- a pattern without glob characters is one path;
- a glob without `**` is expanded with `glob` (hidden names included);
- a `**` glob cannot be expanded without looking at every name beneath its fixed prefix, and no kernel mechanism
  hides files by name pattern without enumerating them (Landlock and seccomp see no names to match; fanotify
  permission events need CAP_SYS_ADMIN), so its prefix (for `~/**/*.key`, `$HOME`; for `**/x`, `$HOME` and the
  writable roots) is walked, at most `WALK_BUDGET` names per run. The walk is fail-closed: when the budget runs
  out, every folder not yet looked into is hidden whole. It never descends symlinks, so a secret reached only
  through a link to a folder outside the walked roots is not found (the policy still judges the link's target);
  a secret created while the command runs is not hidden.

A hidden path that holds something the sandbox itself needs (the interpreter, the helper) is not hidden whole:
everything in it except the way down to what is needed is hidden instead.
"""

from __future__ import annotations

import functools
import glob
import heapq
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmos.policies.path_guard import PathGuard, glob_regex

WALK_BUDGET = 100_000
"""Names a run may look at to find `**` matches (a few tenths of a second); past it, the folders not looked into
are hidden whole."""
MOUNT_TARGET = 200
"""bubblewrap's set-up time grows with the square of its mounts (0.1 s for 100, 3 s for 1000): past this many,
neighbouring hidden (or read-only) paths are merged into their folder, which hides (or protects) more."""
MAX_MOUNTS = 1000
"""More mounts than this, even merged, and the run is refused rather than left half-confined."""
_FRESH_IN_SANDBOX = ("/proc/", "/dev/")
"""The sandbox gets its own /proc (only its own processes) and /dev (null, zero, random, tty): globs there name
nothing of the host's."""
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Confinement:
    """Absolute patterns (`**` any depth, `*` `?` `[...]` within one name) of what a sandboxed command may not see
    (`secret_patterns`, `llmos_paths`) or change (`protected_patterns`), and the home whose `**` patterns are
    searched."""

    home: Path
    secret_patterns: tuple[str, ...]
    protected_patterns: tuple[str, ...]
    llmos_paths: tuple[Path, ...] = ()
    """llmos's config, data (audit log and key, journal, trash, history) and runtime (daemon socket) folders."""


@dataclass(frozen=True)
class Mounts:
    hidden: tuple[Path, ...]
    """Made empty inside: a tmpfs over a folder, /dev/null over a file."""
    read_only: tuple[Path, ...]
    """Bound read-only over the writable roots' binds."""


def default_confinement(home: str | None = None) -> Confinement:
    """The default profile's secret and protected paths (with the engine's built-in ones) and llmos's own
    folders: what a run hides when its caller has no profile of its own to give."""
    from llmos.policies.profile import load_profile

    from llmos.paths import config_dir, data_dir, runtime_dir

    home_path = Path(home if home else os.environ.get("HOME") or os.path.expanduser("~"))
    profile = load_profile("default")
    guard = PathGuard(home=home_path, llmos_paths=(config_dir(), data_dir(), runtime_dir()),
                      denied=[*profile.denied_paths, *profile.asked_paths], secrets=profile.secret_paths)
    return confinement_of(guard)


def confinement_of(guard: PathGuard) -> Confinement:
    """The confinement a `PathGuard` promises: its secret patterns hidden, its denied ones read-only, its llmos
    folders hidden."""
    return Confinement(
        home=Path(guard.home),
        secret_patterns=tuple(pattern for pattern, _ in guard.secrets),
        protected_patterns=tuple(dict.fromkeys(
            narrowed for pattern, _ in guard.denied for narrowed in _inside_the_sandbox(pattern))),
        llmos_paths=tuple(Path(path) for path in guard.llmos_paths),
    )


def _inside_the_sandbox(pattern: str) -> tuple[str, ...]:
    """What of a protected pattern the sandbox keeps read-only. A repository's `.git` is protected as a unit by
    policy (no command or tool may move, replace or write it), but an approved `git commit` or `git add` inside the
    sandbox must still write its objects and index: read-only there are the parts that name programs git runs
    (hooks, config). They are mount points, so a `.git` renamed away by a sandboxed program keeps them read-only."""
    if pattern.endswith("/.git") or pattern == ".git":
        return (f"{pattern}/hooks", f"{pattern}/config")
    return (pattern,)


def _beneath(path: Path, root: Path) -> bool:
    """`path` is `root` or lies in it (both absolute and normalised)."""
    text, folder = str(path), str(root).rstrip("/")
    return text == folder or text.startswith(folder + "/")


class _DeepMatcher:
    """`**` patterns, matched fast: most are `PREFIX/**/TAIL`, so a name matches when its path starts with PREFIX
    and its last components match TAIL (one regex per prefix and tail length); any other shape is matched whole."""

    def __init__(self, patterns: Sequence[str]) -> None:
        groups: dict[tuple[str, int], list[str]] = {}
        whole: list[str] = []
        for pattern in patterns:
            head, separator, tail = pattern.partition("**/")
            if not separator or "**" in tail or _GLOB.search(head) or (head and not head.endswith("/")):
                whole.append(pattern)
                continue
            groups.setdefault((head, tail.count("/") + 1), []).append(tail)
        self.groups = [(head, depth, re.compile("|".join(f"(?:{glob_regex(tail, beneath=False).pattern})"
                                                         for tail in tails), re.DOTALL))
                       for (head, depth), tails in groups.items()]
        self.whole = [glob_regex(pattern, beneath=False) for pattern in whole]

    def __bool__(self) -> bool:
        return bool(self.groups or self.whole)

    def in_folder(self, folder: str) -> Callable[[str], bool]:
        """A test of one name in `folder` (an absolute path without a trailing slash)."""
        slashed = folder.rstrip("/") + "/"
        parents = folder.strip("/").split("/") if folder.strip("/") else []
        active = [(("/".join(parents[len(parents) - depth + 1:]) + "/") if depth > 1 else "", regex)
                  for head, depth, regex in self.groups if slashed.startswith(head) and len(parents) >= depth - 1]
        whole = self.whole

        def test(name: str) -> bool:
            for above, regex in active:
                if regex.match(above + name if above else name):
                    return True
            return bool(whole) and any(regex.match(slashed + name) for regex in whole)

        return test


def _literal_prefix(pattern: str) -> Path:
    match = _GLOB.search(pattern)
    head = pattern if match is None else pattern[:match.start()]
    return Path(head.rsplit("/", 1)[0] or "/")


def _split(patterns: Iterable[str]) -> tuple[list[Path], list[str], list[str]]:
    """Patterns as (concrete paths, globs without `**`, `**` globs); the sandbox's fresh /proc and /dev keep only
    their concrete paths."""
    concrete: list[Path] = []
    simple: list[str] = []
    deep: list[str] = []
    for pattern in patterns:
        pattern = os.path.normpath(pattern) if not pattern.startswith("**") else pattern
        if not _GLOB.search(pattern):
            concrete.append(Path(pattern))
        elif pattern.startswith(_FRESH_IN_SANDBOX):
            continue
        elif "**" in pattern:
            deep.append(pattern)
        else:
            simple.append(pattern)
    return concrete, simple, deep


def _existing(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def mounts_for(confinement: Confinement, writable_roots: Sequence[Path], keep_visible: Sequence[Path],
               cwd: Path, extra_hidden: Sequence[Path] = ()) -> Mounts:
    """The paths to hide and to keep read-only for one run. `keep_visible` (the interpreter and helper the
    sandbox needs, resolved) are never hidden; what holds them is hidden around them. The walk looks at `cwd`
    first, so a short budget hides the far corners of home rather than where the command works. Raises
    ValueError when there are more than `MAX_MOUNTS`."""
    secret_concrete, secret_simple, secret_deep = _split(confinement.secret_patterns)
    protected_concrete, protected_simple, protected_deep = _split(confinement.protected_patterns)
    hidden: list[Path] = [*secret_concrete, *confinement.llmos_paths, *(Path(path) for path in extra_hidden)]
    read_only: list[Path] = list(protected_concrete)
    for pattern in secret_simple:
        hidden.extend(Path(found) for found in glob.glob(pattern, include_hidden=True))
    for pattern in protected_simple:
        read_only.extend(Path(found) for found in glob.glob(pattern, include_hidden=True))

    home = Path(os.path.normpath(confinement.home))
    roots = [Path(os.path.normpath(root)) for root in writable_roots]
    walk_roots: list[Path] = []
    for pattern in secret_deep:
        prefix = _literal_prefix(pattern)
        walk_roots.extend([home, *roots] if prefix == Path("/") else [prefix])
    if protected_deep:
        walk_roots.extend(roots)  # protected paths outside the writable roots are read-only already
    if walk_roots:
        found_hidden, found_read_only = _walk(walk_roots, _DeepMatcher(secret_deep), _DeepMatcher(protected_deep),
                                              keep_visible, cwd)
        hidden.extend(found_hidden)
        read_only.extend(found_read_only)

    kept = [Path(os.path.normpath(path)) for path in keep_visible]
    final_hidden: list[Path] = []
    for path in dict.fromkeys(hidden):
        if not _existing(path):
            continue
        target = path.resolve()
        if any(_beneath(keep, target) for keep in kept):
            final_hidden.extend(_around(target, kept))
        else:
            final_hidden.append(target)
    final_hidden = _merged(final_hidden, kept, cwd, MOUNT_TARGET)
    hidden_set = set(final_hidden)
    final_read_only = []
    for path in dict.fromkeys(read_only):
        if not _existing(path):
            continue  # bubblewrap can only mount over what exists; the policy still refuses the write
        target = path.resolve()
        inside_hidden = target in hidden_set or any(parent in hidden_set for parent in target.parents)
        if any(_beneath(target, root) for root in roots) and not inside_hidden:
            final_read_only.append(target)
    final_read_only = _merged(final_read_only, kept, cwd, MOUNT_TARGET)
    if len(final_hidden) + len(final_read_only) > MAX_MOUNTS:
        raise ValueError(f"{len(final_hidden) + len(final_read_only)} paths would have to be hidden or kept "
                         f"read-only, even merged (more than {MAX_MOUNTS}); refusing to run half-confined")
    return Mounts(tuple(final_hidden), tuple(final_read_only))


def _outermost(paths: list[Path]) -> list[Path]:
    """Sorted, without paths that lie beneath another one (a mount inside a hidden tmpfs could not be made)."""
    every = set(paths)
    return sorted(path for path in every if not any(parent in every for parent in path.parents))


def _merged(paths: list[Path], kept: Sequence[Path], cwd: Path, target: int) -> list[Path]:
    """`paths` without those beneath another, and, while there are more than `target`, the deepest ones
    replaced by their folders; never by a folder that holds or lies in a kept path (the interpreter, the
    helper), nor one that holds the working directory."""
    current = _outermost(paths)

    @functools.cache
    def can_hide(folder: Path) -> bool:
        return folder != folder.parent and not _beneath(cwd, folder) and not any(
            _beneath(keep, folder) or _beneath(folder, keep) for keep in kept)

    while len(current) > target:
        liftable = [path for path in current if can_hide(path.parent)]
        if not liftable:
            break
        deepest = max(len(path.parts) for path in liftable)
        current = _outermost([path.parent if len(path.parts) == deepest and can_hide(path.parent) else path
                              for path in current])
    return current


def _around(folder: Path, kept: Sequence[Path]) -> list[Path]:
    """Everything in `folder` except the way down to the `kept` paths beneath it."""
    hidden: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return hidden
    for entry in entries:
        path = Path(entry.path)
        if any(_beneath(path, keep) for keep in kept):
            continue
        if any(_beneath(keep, path) for keep in kept) and entry.is_dir(follow_symlinks=False):
            hidden.extend(_around(path, kept))
        else:
            hidden.append(path)
    return hidden


def _walk(roots: Sequence[Path], secret: _DeepMatcher, protected: _DeepMatcher, keep_visible: Sequence[Path],
          cwd: Path) -> tuple[list[Path], list[Path]]:
    """Look beneath `roots` for names the patterns match, within `WALK_BUDGET` names; the folders not looked into
    then are returned as hidden. Folders that hold a kept path or `cwd`, or lie in a kept path, are always looked
    into; then those in `cwd`, then the rest, shallow ones first."""
    kept = [os.path.normpath(path).rstrip("/") + "/" for path in keep_visible]
    work = os.path.normpath(cwd).rstrip("/") + "/"
    hidden: list[Path] = []
    read_only: list[Path] = []
    queue: list[tuple[int, int, str]] = []
    seen: set[str] = set()

    def push(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        slashed = path.rstrip("/") + "/"
        if work.startswith(slashed) or any(keep.startswith(slashed) or slashed.startswith(keep) for keep in kept):
            priority = 0
        else:
            priority = 1 if slashed.startswith(work) else 2
        heapq.heappush(queue, (priority, path.count("/"), path))

    for root in dict.fromkeys(Path(os.path.normpath(root)) for root in roots):
        if root.is_dir() and not root.is_symlink():
            push(str(root))
    looked = 0
    while queue:
        priority, _, folder = heapq.heappop(queue)
        if priority and looked >= WALK_BUDGET:
            hidden.append(Path(folder))
            continue
        is_secret = secret.in_folder(folder) if secret else None
        is_protected = protected.in_folder(folder) if protected else None
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    looked += 1
                    name = entry.name
                    if is_secret is not None and is_secret(name):
                        hidden.append(Path(entry.path))
                        continue
                    if is_protected is not None and is_protected(name):
                        read_only.append(Path(entry.path))
                    if entry.is_dir(follow_symlinks=False):
                        push(entry.path)
        except OSError:
            continue  # unreadable to llmos is unreadable to the sandboxed command too
    return hidden, read_only
