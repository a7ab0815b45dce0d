"""Archives and hashes: `files.archive` (zip, tar.gz), `files.extract` (safely: no member may land outside the
destination, no links out, bounded size), and `files.hash`. Created files go through the journal like any write."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from llmos.policies.impact import Impact, PathEffect
from llmos.tools._format import human_size
from llmos.tools.context import confirm_impact, current_context
from llmos.tools.files import preview_read_path
from llmos.tools.files_change import expand_sources
from llmos.tools.paths import display_path, expand_path
from llmos.tools.registry import ToolError, tool
from llmos.tools.secret_files import refuse_secret, secret_note, secret_rule

from llmos.effects import Effect

MAX_EXTRACT_BYTES = 2 * 1024**3
MAX_EXTRACT_MEMBERS = 20_000


_ARCHIVE_EXTENSIONS: tuple[tuple[str, Literal["zip", "tar.gz", "tar"]], ...] = (
    (".zip", "zip"), (".tar.gz", "tar.gz"), (".tgz", "tar.gz"), (".tar", "tar"),
)
"""An archive name's extension -> its format."""


def _archive_format(path: Path) -> Literal["zip", "tar.gz", "tar"]:
    name = path.name.lower()
    for extension, kind in _ARCHIVE_EXTENSIONS:
        if name.endswith(extension):
            return kind
    raise ToolError(f"{display_path(path)}: use a .zip, .tar.gz, .tgz or .tar name")


def _archive_stem(name: str) -> str:
    """An archive's name without its archive extension (album.tar.gz -> album)."""
    for extension, _kind in _ARCHIVE_EXTENSIONS:
        if name.lower().endswith(extension):
            return name[: -len(extension)]
    return ""


def _plan_archive(source: str, destination: str) -> tuple[list[Path], Path]:
    sources = expand_sources(source)
    target = expand_path(destination)
    _archive_format(target)
    if target.exists():
        raise ToolError(f"{display_path(target)} already exists")
    containing = [path for path in sources if target == path or path in target.parents]
    if containing:
        # "archive the album in ~/Music to ~/Music/album.tar.gz": the model archived ~/Music. The folder named
        # like the archive, beside it, is what was meant.
        stem = _archive_stem(target.name)
        beside = target.parent / stem if stem else None
        meant = [display_path(beside)] if beside is not None and beside.exists() and beside not in containing else []
        raise ToolError(f"the archive cannot be inside what it archives: {display_path(containing[0])}",
                        suggested=meant)
    return sources, target


def preview_archive(source: str, destination: str) -> Impact:
    sources, target = _plan_archive(source, destination)
    reads = tuple(PathEffect(path, "read", None, path.is_dir()) for path in sources)
    return Impact(paths=(*reads, PathEffect(target, "create")), notes=(f"{len(sources)} item(s) into {target.name}",))


@tool("files.archive", Effect.WRITE, preview=preview_archive, patterns=("source",))
def make_archive(source: str, destination: str) -> dict[str, Any]:
    """Pack files or folders into a .zip or .tar.gz archive.

    Args:
        source: file, folder or glob to pack.
        destination: the archive to create, ending in .zip, .tar.gz or .tar.
    """
    confirm_impact(preview_archive(source, destination))
    sources, target = _plan_archive(source, destination)
    file_ops = current_context().journaled_file_ops()
    # Staged in a private temporary folder, never beside the target: nothing is written where the decision did not
    # look, and the journal's copy puts it in place through the folder that was decided on.
    with tempfile.TemporaryDirectory(prefix="llmos-archive-") as staging:
        built = Path(staging) / target.name
        members = _archive_members(sources)
        if _archive_format(target) == "zip":
            with zipfile.ZipFile(built, "w", zipfile.ZIP_DEFLATED) as zip_archive:
                for member, name in members.packed:
                    zip_archive.write(member, name)
        else:
            mode: Literal["w:gz", "w"] = "w:gz" if _archive_format(target) == "tar.gz" else "w"
            with tarfile.open(built, mode) as tar_archive:
                for member, name in members.packed:
                    tar_archive.add(member, arcname=name, recursive=False, filter=_without_links)
        action_id = file_ops.copy(built, target)
    result: dict[str, Any] = {"created": display_path(target), "size": human_size(target.stat().st_size),
                              "undo_id": action_id}
    if members.secret:
        result.update(skipped_secret=members.secret, note=secret_note(members.secret))
    return result


@dataclass
class _Members:
    packed: list[tuple[Path, str]] = field(default_factory=list)
    """(file or folder, name inside the archive), folders before what they hold"""
    secret: int = 0


def _archive_members(sources: list[Path]) -> _Members:
    """What goes into an archive: every file and folder below the sources, links left out (their target may be
    anywhere), and secret files and folders left out and counted (an archive must not carry a key out under a
    name the secret rules no longer recognise)."""
    is_secret = secret_rule()
    members = _Members()
    for source in sources:
        refuse_secret(source)
        pending = [source]
        while pending:
            member = pending.pop()
            if member.is_symlink():
                continue
            if member != source and is_secret(member):
                members.secret += 1
                continue
            members.packed.append((member, str(member.relative_to(source.parent))))
            if member.is_dir():
                pending.extend(sorted(member.iterdir(), reverse=True))
    return members


def _without_links(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """A tar member as it is, or None for a link: its target may be anywhere; archives carry files, not pointers out."""
    return None if info.issym() or info.islnk() else info


def _members(archive_path: Path) -> list[tuple[str, int, bool]]:
    """(name, size, is_folder) of every member; refuses links, devices, absolute names and `..`."""
    members: list[tuple[str, int, bool]] = []
    if _archive_format(archive_path) == "zip":
        with zipfile.ZipFile(archive_path) as zip_archive:
            for zip_info in zip_archive.infolist():
                is_link = (zip_info.external_attr >> 16) & 0o170000 == 0o120000
                if is_link:
                    raise ToolError(f"{display_path(archive_path)} holds a symlink ({zip_info.filename}); refusing")
                members.append((zip_info.filename, zip_info.file_size, zip_info.is_dir()))
    else:
        with tarfile.open(archive_path) as tar_archive:
            for tar_info in tar_archive.getmembers():
                if not (tar_info.isfile() or tar_info.isdir()):
                    raise ToolError(f"{display_path(archive_path)} holds a link or device ({tar_info.name}); refusing")
                members.append((tar_info.name, tar_info.size, tar_info.isdir()))
    for name, _, _ in members:
        parts = PurePosixPath(name).parts
        if name.startswith(("/", "\\")) or ".." in parts or any("\\" in part or ":" in part for part in parts):
            raise ToolError(f"{display_path(archive_path)}: member {name!r} would land outside the destination")
        if any(part.casefold() == ".git" for part in parts):
            # A repository arriving in an archive brings its own hooks and settings: git would run them.
            raise ToolError(f"{display_path(archive_path)} holds a git repository's .git ({name!r}); llmos never "
                            f"creates one, as git runs the programs it names")
    if len(members) > MAX_EXTRACT_MEMBERS or sum(size for _, size, _ in members) > MAX_EXTRACT_BYTES:
        raise ToolError(f"{display_path(archive_path)} is too big to extract here (size or member count)")
    return members


def _plan_extract(archive: str, destination: str) -> tuple[Path, Path, list[tuple[str, int, bool]]]:
    archive_path = expand_path(archive)
    if not archive_path.is_file():
        raise ToolError(f"no such archive: {display_path(archive_path)}")
    target = expand_path(destination)
    if target.exists():
        raise ToolError(f"{display_path(target)} already exists; extract into a new folder")
    try:
        return archive_path, target, _members(archive_path)
    except (zipfile.BadZipFile, tarfile.TarError) as exc:
        raise ToolError(f"{display_path(archive_path)} is not a readable archive: {exc}") from None


def preview_extract(archive: str, destination: str) -> Impact:
    archive_path, target, members = _plan_extract(archive, destination)
    total = sum(size for _, size, _ in members)
    parent = () if target.parent.exists() else (PathEffect(target.parent, "create"),)
    return Impact(
        paths=(PathEffect(archive_path, "read"), *parent, PathEffect(target, "create", total, True)),
        notes=(f"{len(members)} member(s), {human_size(total)}",),
    )


@tool("files.extract", Effect.WRITE, preview=preview_extract)
def extract_archive(archive: str, destination: str) -> dict[str, Any]:
    """Unpack a .zip, .tar.gz or .tar archive into a new folder.

    Args:
        archive: the archive file.
        destination: a folder that does not exist yet.
    """
    confirm_impact(preview_extract(archive, destination))
    archive_path, target, members = _plan_extract(archive, destination)
    file_ops = current_context().journaled_file_ops()
    if not target.parent.exists():
        file_ops.mkdir(target.parent)
    with tempfile.TemporaryDirectory(prefix="llmos-extract-") as staging:  # private, as in make_archive
        unpacked = Path(staging) / "out"
        unpacked.mkdir()
        if _archive_format(archive_path) == "zip":
            with zipfile.ZipFile(archive_path) as handle:
                handle.extractall(unpacked)
        else:
            with tarfile.open(archive_path) as handle:
                handle.extractall(unpacked, filter="data")
        action_id = file_ops.copy(unpacked, target)
        shutil.rmtree(unpacked)
    return {"extracted": display_path(target), "members": len(members), "undo_id": action_id}


@tool("files.hash", Effect.READ, preview=preview_read_path)
def hash_file(path: str, algorithm: Literal["sha256", "sha1", "md5"] = "sha256") -> dict[str, Any]:
    """Compute a file's checksum (sha256 by default).

    Args:
        path: file to hash.
        algorithm: sha256, sha1 or md5.
    """
    target = expand_path(path)
    if not target.is_file():
        raise ToolError(f"no such file: {display_path(target)}", missing=target)
    refuse_secret(target)  # a hash of a short secret confirms a guess of it
    digest = hashlib.new(algorithm)
    with target.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": display_path(target), "algorithm": algorithm, "hash": digest.hexdigest()}
