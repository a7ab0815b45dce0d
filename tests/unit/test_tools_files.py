"""The read-only file tools, called through the registry so argument validation is part of every test."""

from __future__ import annotations

import os
import pwd
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from llmos.tools._format import human_size
from llmos.tools.registry import Registry
from treedata import BIG_LOG_LINES, PDF_BYTES


def ok(registry: Registry, tool_name: str, **args: Any) -> Any:
    result = registry.get(tool_name).call(args)
    assert result.ok, result.error
    return result.data


def error(registry: Registry, tool_name: str, **args: Any) -> str:
    result = registry.get(tool_name).call(args)
    assert not result.ok, f"expected an error, got {result.data!r}"
    assert result.data is None
    return result.error


# --- files.list ---------------------------------------------------------------------------------------------


def test_list_counts_files_and_folders_before_entries(temp_home: Path, builtin_tools: Registry) -> None:
    """Counts come first and leave hidden entries out; entries are folders first, then by name ignoring case."""
    listing = ok(builtin_tools, "files.list", path="~/Downloads")
    assert listing["path"] == "~/Downloads"
    assert (listing["files"], listing["folders"], listing["links"]) == (4, 1, 0)
    assert listing["hidden_not_shown"] == 1
    assert [entry["name"] for entry in listing["entries"]] == [
        "archive",
        "notes.txt",
        "photo.JPG",
        "report.pdf",
        "setup.sh",
    ]
    assert listing["count"] == 5
    assert list(listing)[:3] == ["path", "files", "folders"]
    assert list(listing)[-1] == "entries"


def test_list_counts_files_by_extension_most_common_first(temp_home: Path, builtin_tools: Registry) -> None:
    """files_by_type counts the shown files per lower-case extension, most common first ("none" for no
    extension); folders and hidden files are not counted."""
    for name in ("b.pdf", "c.PDF", "README", "x.tar.gz"):
        (temp_home / "Downloads" / name).write_text("x")
    listing = ok(builtin_tools, "files.list", path="~/Downloads")
    assert listing["files_by_type"] == {"pdf": 3, "gz": 1, "jpg": 1, "none": 1, "sh": 1, "txt": 1}
    assert list(listing["files_by_type"])[0] == "pdf"


def test_list_of_a_folder_without_files_has_no_type_counts(temp_home: Path, builtin_tools: Registry) -> None:
    """Only folders inside: no files_by_type key (nothing to count)."""
    (temp_home / "Only" / "sub").mkdir(parents=True)
    assert "files_by_type" not in ok(builtin_tools, "files.list", path="~/Only")


def test_list_entry_fields_are_exact(temp_home: Path, builtin_tools: Registry) -> None:
    """A file entry has type, byte size, human size, local ISO modified time and its short age; a folder has no size."""
    entries = {entry["name"]: entry for entry in ok(builtin_tools, "files.list", path="Downloads")["entries"]}
    notes = temp_home / "Downloads" / "notes.txt"
    assert entries["notes.txt"] == {
        "name": "notes.txt",
        "type": "file",
        "size": notes.stat().st_size,
        "size_human": f"{notes.stat().st_size} B",
        "modified": datetime.fromtimestamp(notes.stat().st_mtime).isoformat(timespec="seconds"),
        "modified_human": "1d ago",  # the fixture dates its files one day back
    }
    assert entries["archive"]["type"] == "folder" and "size" not in entries["archive"]


def test_list_total_size_sums_the_files(temp_home: Path, builtin_tools: Registry) -> None:
    listing = ok(builtin_tools, "files.list", path="~/Downloads")
    expected = sum(
        path.stat().st_size
        for path in (temp_home / "Downloads").iterdir()
        if path.is_file() and not path.name.startswith(".")
    )
    assert listing["total_size"] == expected


def test_list_hidden_true_shows_and_counts_dotfiles(temp_home: Path, builtin_tools: Registry) -> None:
    listing = ok(builtin_tools, "files.list", path="~/Downloads", hidden=True)
    assert listing["files"] == 5
    assert "hidden_not_shown" not in listing
    assert ".hidden_token" in [entry["name"] for entry in listing["entries"]]


def test_list_defaults_to_the_working_directory_shown_as_tilde(temp_home: Path, builtin_tools: Registry) -> None:
    listing = ok(builtin_tools, "files.list")
    assert listing["path"] == "~"
    assert [entry["name"] for entry in listing["entries"]] == ["Documents", "Downloads", "program.bin"]


def test_list_reports_symlinks_as_links(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "docs-link").symlink_to(temp_home / "Documents")
    listing = ok(builtin_tools, "files.list", path="~")
    assert listing["links"] == 1 and listing["folders"] == 2
    assert {"docs-link": "link"}.items() <= {entry["name"]: entry["type"] for entry in listing["entries"]}.items()


def test_list_missing_folder_is_a_readable_error(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.list", path="~/Nope") == "no such file or folder: ~/Nope"


def test_list_of_a_file_says_it_is_not_a_folder(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.list", path="~/Downloads/notes.txt") == "~/Downloads/notes.txt is not a folder"


def test_list_rejects_bad_and_unknown_arguments(temp_home: Path, builtin_tools: Registry) -> None:
    assert "hidden" in error(builtin_tools, "files.list", hidden="perhaps")
    assert "folder: Extra inputs are not permitted" in error(builtin_tools, "files.list", folder="~")


# --- files.find ---------------------------------------------------------------------------------------------


def test_find_pdfs_recursively_with_tilde_paths(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.find", path="~", name="*.pdf")
    assert found["matches"] == 2 and found["shown"] == 2 and found["skipped"] == 0
    # Depth-first in name order: Documents before Downloads.
    assert [match["path"] for match in found["results"]] == [
        "~/Documents/Taxes/2023/return.pdf",
        "~/Downloads/report.pdf",
    ]
    assert all(match["size"] == len(PDF_BYTES) for match in found["results"])


def test_find_name_glob_ignores_case(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.find", name="*.jpg")
    assert [match["path"] for match in found["results"]] == ["~/Downloads/photo.JPG"]


def test_find_plain_name_matches_part_of_the_name(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.find", name="READ")
    assert [match["path"] for match in found["results"]] == ["~/Documents/Projects/llmos/README.md"]


def test_find_type_folder_returns_only_folders(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.find", path="~/Documents", type="folder")
    assert sorted(match["path"] for match in found["results"]) == [
        "~/Documents/Projects",
        "~/Documents/Projects/llmos",
        "~/Documents/Taxes",
        "~/Documents/Taxes/2023",
    ]
    assert all(match["type"] == "folder" for match in found["results"])


def test_find_type_file_excludes_folders(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.find", path="~/Downloads", type="file")
    assert sorted(match["path"] for match in found["results"]) == [
        "~/Downloads/archive/old.txt",
        "~/Downloads/notes.txt",
        "~/Downloads/photo.JPG",
        "~/Downloads/report.pdf",
        "~/Downloads/setup.sh",
    ]


def test_find_size_filters_parse_units(temp_home: Path, builtin_tools: Registry) -> None:
    assert [match["path"] for match in ok(builtin_tools, "files.find", min_size="1MB")["results"]] == [
        "~/Documents/big.log"
    ]
    small = ok(builtin_tools, "files.find", path="~/Downloads", max_size="0.1k")
    assert sorted(match["path"] for match in small["results"]) == [
        "~/Downloads/archive/old.txt",
        "~/Downloads/notes.txt",
        "~/Downloads/setup.sh",
    ]


def test_find_bad_size_is_a_readable_error(temp_home: Path, builtin_tools: Registry) -> None:
    """A size the schema's pattern refuses is reported with the parameter's own description, not the regex."""
    message = error(builtin_tools, "files.find", min_size="ten megs")
    assert message == "invalid arguments for files.find: min_size: cannot read 'ten megs': like 10MB, 500KB, 1.5GB."
    assert error(builtin_tools, "files.find", newer_than=".pdf").endswith(
        "cannot read '.pdf': modified within, like 30m, 2h, 7d, 1w, or since a date, like 2024-03-01.")


def test_find_age_filters_use_modification_time(temp_home: Path, builtin_tools: Registry) -> None:
    """old.txt is 30 days old, everything else 1 day (or just written)."""
    older = ok(builtin_tools, "files.find", older_than="1w")
    assert [match["path"] for match in older["results"]] == ["~/Downloads/archive/old.txt"]
    newer = ok(builtin_tools, "files.find", path="~/Downloads", type="file", newer_than="7d")
    assert "~/Downloads/archive/old.txt" not in [match["path"] for match in newer["results"]]
    assert newer["matches"] == 4
    since_a_date = ok(builtin_tools, "files.find", path="~/Downloads", type="file",
                      newer_than=time.strftime("%Y-%m-%d", time.localtime(time.time() - 7 * 86400)))
    assert since_a_date["matches"] == 4

def test_find_bad_age_is_a_readable_error(temp_home: Path, builtin_tools: Registry) -> None:
    """An age the schema refuses names the parameter, the value and the forms it takes."""
    assert error(builtin_tools, "files.find", newer_than="yesterday").endswith(
        "newer_than: cannot read 'yesterday': modified within, like 30m, 2h, 7d, 1w, or since a date, like 2024-03-01.")


def test_find_limit_caps_shown_but_counts_all(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.find", type="file", limit=3)
    assert found["matches"] == 10 and found["shown"] == 3 and len(found["results"]) == 3


def test_find_total_size_sums_every_match_not_only_those_shown(temp_home: Path, builtin_tools: Registry) -> None:
    """total_size is the size of all matching files, also those the limit leaves out; folders add nothing."""
    every = ok(builtin_tools, "files.find", type="file", limit=1000)
    capped = ok(builtin_tools, "files.find", limit=2)
    assert capped["shown"] == 2 and capped["matches"] > 2
    assert capped["total_size"] == every["total_size"] == sum(match["size"] for match in every["results"])
    assert capped["total_size_human"] == human_size(every["total_size"])


def test_find_skips_hidden_names_unless_the_pattern_asks(temp_home: Path, builtin_tools: Registry) -> None:
    assert ok(builtin_tools, "files.find", name="config")["matches"] == 0
    assert ok(builtin_tools, "files.find", name="*token*")["matches"] == 0
    dotted = ok(builtin_tools, "files.find", name=".hidden*")
    assert [match["path"] for match in dotted["results"]] == ["~/Downloads/.hidden_token"]
    assert [match["path"] for match in ok(builtin_tools, "files.find", name=".git")["results"]] == [
        "~/Documents/Projects/llmos/.git"
    ]


def test_find_does_not_follow_symlinked_folders(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "Downloads" / "docs-link").symlink_to(temp_home / "Documents")
    found = ok(builtin_tools, "files.find", name="README.md")
    assert [match["path"] for match in found["results"]] == ["~/Documents/Projects/llmos/README.md"]
    link = ok(builtin_tools, "files.find", name="docs-link")
    assert link["results"][0]["type"] == "link"


def test_find_counts_unreadable_folders_as_skipped(
    temp_home: Path, builtin_tools: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permission problems inside the tree are counted, not fatal (simulated: the tests may run as root)."""
    real_scandir = os.scandir
    locked = str(temp_home / "Documents" / "Taxes")

    def scandir(path: Any = ".") -> Any:
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = ok(builtin_tools, "files.find", name="*.pdf")
    assert found["skipped"] == 1
    assert [match["path"] for match in found["results"]] == ["~/Downloads/report.pdf"]


def test_find_in_missing_folder_is_a_readable_error(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.find", path="~/Missing") == "no such file or folder: ~/Missing"


def test_find_type_must_be_one_of_the_enum(temp_home: Path, builtin_tools: Registry) -> None:
    message = error(builtin_tools, "files.find", type="directory")
    assert message.startswith("invalid arguments for files.find: type:") and "'folder'" in message


# --- files.read ---------------------------------------------------------------------------------------------


def test_read_text_file_returns_content_and_line_count(temp_home: Path, builtin_tools: Registry) -> None:
    read = ok(builtin_tools, "files.read", path="~/Downloads/notes.txt")
    assert read == {
        "path": "~/Downloads/notes.txt",
        "size": 27,
        "size_human": "27 B",
        "truncated": False,
        "lines": 2,
        "content": "hello world\nTODO: buy milk\n",
    }


def test_read_caps_content_and_says_it_was_truncated(temp_home: Path, builtin_tools: Registry) -> None:
    read = ok(builtin_tools, "files.read", path="Documents/big.log", max_bytes=100)
    assert read["truncated"] is True
    assert read["shown_bytes"] == 100
    assert read["size"] == BIG_LOG_LINES * len("line 00000 status ok\n")
    assert read["content"] == "".join(f"line {number:05d} status ok\n" for number in range(5))[:100]


def test_read_counts_every_line_of_a_truncated_file(temp_home: Path, builtin_tools: Registry) -> None:
    """A file cut to max_bytes still reports the whole file's line count."""
    read = ok(builtin_tools, "files.read", path="Documents/big.log", max_bytes=100)
    assert read["truncated"] is True and read["lines"] == BIG_LOG_LINES


def test_read_counts_a_last_line_without_a_newline(temp_home: Path, builtin_tools: Registry) -> None:
    """A last line without a newline counts; an empty file has no lines; cutting the content changes neither."""
    for content, lines in (("a\nb", 2), ("a\nb\n", 2), ("", 0)):
        (temp_home / "lines.txt").write_text(content)
        assert ok(builtin_tools, "files.read", path="~/lines.txt")["lines"] == lines
        assert ok(builtin_tools, "files.read", path="~/lines.txt", max_bytes=1)["lines"] == lines


def test_read_truncation_never_splits_a_utf8_character(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "accents.txt").write_text("é" * 10, encoding="utf-8")
    read = ok(builtin_tools, "files.read", path="~/accents.txt", max_bytes=5)
    assert read["content"] == "éé" and read["truncated"] is True


def test_read_replaces_invalid_utf8_instead_of_calling_it_binary(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "latin1.txt").write_bytes("café au lait\n".encode("latin-1"))
    read = ok(builtin_tools, "files.read", path="~/latin1.txt")
    assert read["content"] == "caf\ufffd au lait\n"
    assert "binary" not in read


def test_read_detects_binary_by_nul_byte_and_names_the_type(temp_home: Path, builtin_tools: Registry) -> None:
    read = ok(builtin_tools, "files.read", path="~/Downloads/report.pdf")
    assert read == {
        "path": "~/Downloads/report.pdf",
        "size": len(PDF_BYTES),
        "size_human": f"{len(PDF_BYTES)} B",
        "binary": True,
        "type": "application/pdf",
    }
    assert ok(builtin_tools, "files.read", path="~/program.bin")["type"] == "application/x-executable"
    assert ok(builtin_tools, "files.read", path="~/Downloads/photo.JPG")["type"] == "image/jpeg"


def test_read_detects_binary_without_nul_when_mostly_control_bytes(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "blob.dat").write_bytes(bytes(range(1, 32)) * 50)
    read = ok(builtin_tools, "files.read", path="~/blob.dat")
    assert read["binary"] is True and "content" not in read


def test_read_of_a_folder_points_to_files_list(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.read", path="~/Downloads") == (
        "~/Downloads is a folder: use files.list to see what it holds"
    )


def test_read_missing_file_is_a_readable_error(temp_home: Path, builtin_tools: Registry) -> None:
    assert (
        error(builtin_tools, "files.read", path="~/Downloads/nope.txt")
        == "no such file or folder: ~/Downloads/nope.txt"
    )


def test_read_requires_a_path(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.read") == "invalid arguments for files.read: path: Field required"


# --- files.stat ---------------------------------------------------------------------------------------------


def test_stat_file_reports_mode_owner_and_times(temp_home: Path, builtin_tools: Registry) -> None:
    notes = temp_home / "Downloads" / "notes.txt"
    notes.chmod(0o640)
    details = ok(builtin_tools, "files.stat", path="~/Downloads/notes.txt")
    info = notes.stat()
    assert details["path"] == "~/Downloads/notes.txt"
    assert details["type"] == "file"
    assert details["size"] == 27
    assert details["mode"] == "0640"
    assert details["permissions"] == "-rw-r-----"
    assert details["owner"] == pwd.getpwuid(info.st_uid).pw_name
    assert details["modified"] == datetime.fromtimestamp(info.st_mtime).isoformat(timespec="seconds")
    assert details["accessed"] == datetime.fromtimestamp(info.st_atime).isoformat(timespec="seconds")
    assert "created" in details


def test_stat_folder_counts_its_entries(temp_home: Path, builtin_tools: Registry) -> None:
    details = ok(builtin_tools, "files.stat", path="~/Downloads")
    assert details["type"] == "folder"
    assert details["entries"] == 6  # hidden file included: stat describes the folder as it is
    assert details["permissions"].startswith("d")


def test_stat_symlink_shows_its_target(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "docs-link").symlink_to("Documents")
    (temp_home / "dangling").symlink_to(temp_home / "gone")
    details = ok(builtin_tools, "files.stat", path="~/docs-link")
    assert (details["type"], details["target"], details["target_exists"]) == ("link", "~/Documents", True)
    dangling = ok(builtin_tools, "files.stat", path="~/dangling")
    assert (dangling["target"], dangling["target_exists"]) == ("~/gone", False)


def test_stat_missing_path_is_a_readable_error(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.stat", path="nowhere") == "no such file or folder: ~/nowhere"


# --- files.search -------------------------------------------------------------------------------------------


def test_search_finds_lines_in_text_files_only(temp_home: Path, builtin_tools: Registry) -> None:
    """Binary files are not scanned and hidden folders (.git) are not entered."""
    found = ok(builtin_tools, "files.search", text="todo", path="~")
    assert found["matches"] == 2 and found["files_with_matches"] == 2
    assert sorted((match["path"], match["line"], match["text"]) for match in found["results"]) == [
        ("~/Documents/Projects/llmos/main.py", 2, "# TODO: parse arguments"),
        ("~/Downloads/notes.txt", 2, "TODO: buy milk"),
    ]
    # Text files outside hidden names: big.log, README.md, main.py, notes.txt, setup.sh, archive/old.txt.
    assert found["files_scanned"] == 6
    assert found["skipped"] == 0


def test_search_can_match_case(temp_home: Path, builtin_tools: Registry) -> None:
    assert ok(builtin_tools, "files.search", text="todo", ignore_case=False)["matches"] == 0
    assert ok(builtin_tools, "files.search", text="TODO", ignore_case=False)["matches"] == 2


def test_search_is_plain_text_not_regex(temp_home: Path, builtin_tools: Registry) -> None:
    assert ok(builtin_tools, "files.search", text="main.*")["matches"] == 0
    assert ok(builtin_tools, "files.search", text="main()")["matches"] == 1


def test_search_name_filter_limits_files(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.search", text="TODO", name="*.py")
    assert [match["path"] for match in found["results"]] == ["~/Documents/Projects/llmos/main.py"]
    assert found["files_scanned"] == 1


def test_search_limit_caps_shown_but_counts_all(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.search", text="status ok", path="~/Documents", limit=5)
    assert found["matches"] == BIG_LOG_LINES and found["shown"] == 5
    assert [match["line"] for match in found["results"]] == [1, 2, 3, 4, 5]


def test_search_skips_files_over_5mb(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "huge.txt").write_text("needle\n" + "x" * (5 * 1024 * 1024), encoding="utf-8")
    found = ok(builtin_tools, "files.search", text="needle")
    assert found["matches"] == 0 and found["skipped"] == 1


def test_search_trims_long_lines_around_the_match(temp_home: Path, builtin_tools: Registry) -> None:
    (temp_home / "minified.js").write_text("a" * 1000 + "NEEDLE" + "b" * 1000 + "\n", encoding="utf-8")
    text = ok(builtin_tools, "files.search", text="needle")["results"][0]["text"]
    assert len(text) <= 200 and "NEEDLE" in text


def test_search_a_single_file(temp_home: Path, builtin_tools: Registry) -> None:
    found = ok(builtin_tools, "files.search", text="milk", path="~/Downloads/notes.txt")
    assert found["files_scanned"] == 1
    assert found["results"] == [{"path": "~/Downloads/notes.txt", "line": 2, "text": "TODO: buy milk"}]


def test_search_for_empty_text_is_an_error(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.search", text="") == "text to search for is empty"


# --- files.disk_usage ---------------------------------------------------------------------------------------


def _all_file_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def test_disk_usage_totals_the_tree_and_ranks_children(temp_home: Path, builtin_tools: Registry) -> None:
    usage = ok(builtin_tools, "files.disk_usage", path="~")
    assert usage["path"] == "~"
    assert usage["size"] == _all_file_bytes(temp_home)
    assert usage["files"] == 12 and usage["errors"] == 0
    assert [child["name"] for child in usage["biggest"]] == ["Documents", "program.bin", "Downloads"]
    documents = usage["biggest"][0]
    assert documents["size"] == _all_file_bytes(temp_home / "Documents")
    assert documents["size_human"] == "1.2 MB"
    assert documents["percent"] == round(100 * documents["size"] / usage["size"], 1)


def test_disk_usage_top_limits_children(temp_home: Path, builtin_tools: Registry) -> None:
    usage = ok(builtin_tools, "files.disk_usage", top=1)
    assert [child["name"] for child in usage["biggest"]] == ["Documents"]
    assert usage["items"] == 3


def test_disk_usage_counts_hard_links_once_and_never_follows_symlinks(temp_home: Path, builtin_tools: Registry) -> None:
    before = ok(builtin_tools, "files.disk_usage")["size"]
    os.link(temp_home / "Documents" / "big.log", temp_home / "Documents" / "big-hardlink.log")
    (temp_home / "docs-link").symlink_to(temp_home / "Documents")
    after = ok(builtin_tools, "files.disk_usage")
    link_size = (temp_home / "docs-link").lstat().st_size
    assert after["size"] == before + link_size


def test_disk_usage_of_a_glob_measures_the_folders_items_that_match(temp_home: Path, builtin_tools: Registry) -> None:
    """"Which .tmp file in Downloads is the biggest?": the model measured ~/Downloads/*.tmp, which had failed as a
    path that does not exist."""
    (temp_home / "Downloads" / "old-installer.tmp").write_bytes(b"x" * 5000)
    (temp_home / "Downloads" / "cache.tmp").write_bytes(b"x" * 100)
    usage = ok(builtin_tools, "files.disk_usage", path="~/Downloads/*.tmp")
    assert usage["path"] == "~/Downloads/*.tmp" and usage["size"] == 5100 and usage["items"] == 2
    assert [child["name"] for child in usage["biggest"]] == ["old-installer.tmp", "cache.tmp"]
    assert usage["largest_files"][0]["path"] == "~/Downloads/old-installer.tmp"
    assert ok(builtin_tools, "files.disk_usage", path="~/Downloads/*.none")["items"] == 0
    assert "not a folder" in error(builtin_tools, "files.disk_usage", path="~/program.bin/*.tmp")


def test_disk_usage_of_a_file_is_its_size(temp_home: Path, builtin_tools: Registry) -> None:
    usage = ok(builtin_tools, "files.disk_usage", path="~/program.bin")
    assert usage["size"] == (temp_home / "program.bin").stat().st_size and usage["biggest"] == []


def test_disk_usage_missing_path_is_a_readable_error(temp_home: Path, builtin_tools: Registry) -> None:
    assert error(builtin_tools, "files.disk_usage", path="~/nope") == "no such file or folder: ~/nope"


def test_find_sorted_by_size_puts_the_biggest_file_first(temp_home: Path, builtin_tools: Registry) -> None:
    """`sort="size"` answers "what is the biggest file": the largest file under the path comes first."""
    found = ok(builtin_tools, "files.find", path="~", type="file", sort="size", limit=2)
    visible_files = (p for p in temp_home.rglob("*")
                     if p.is_file() and ".git" not in p.parts and not p.name.startswith("."))
    biggest = max(visible_files, key=lambda p: p.stat().st_size)
    assert found["results"][0]["path"] == "~/" + str(biggest.relative_to(temp_home))
    assert found["results"][0]["size"] >= found["results"][1]["size"]
    assert found["shown"] == 2 and found["matches"] > 2


def test_find_sorted_by_newest_puts_the_latest_change_first(temp_home: Path, builtin_tools: Registry) -> None:
    """`sort="newest"` shows the most recently modified match first."""
    fresh = temp_home / "Downloads" / "fresh.txt"
    fresh.write_text("new")
    found = ok(builtin_tools, "files.find", path="~", type="file", sort="newest", limit=3)
    assert found["results"][0]["path"] == "~/Downloads/fresh.txt"


def test_find_and_list_sorted_by_oldest_put_the_least_recent_change_first(
    temp_home: Path, builtin_tools: Registry
) -> None:
    """`sort="oldest"` answers "what is the oldest file": the match changed longest ago comes first, in a search
    (kept in a bounded heap) and in a listing."""
    ancient = temp_home / "Downloads" / "ancient.txt"
    ancient.write_text("old")
    os.utime(ancient, (1_000_000_000, 1_000_000_000))
    found = ok(builtin_tools, "files.find", path="~", type="file", sort="oldest", limit=2)
    assert found["results"][0]["path"] == "~/Downloads/ancient.txt"
    assert found["results"][0]["modified"] <= found["results"][1]["modified"]
    listed = ok(builtin_tools, "files.list", path="~/Downloads", sort="oldest")["entries"]
    assert listed[0]["name"] == "ancient.txt"


def test_list_sorted_by_size_and_newest(temp_home: Path, builtin_tools: Registry) -> None:
    """files.list can order entries biggest-first or newest-first instead of by name."""
    by_size = ok(builtin_tools, "files.list", path="~/Downloads", sort="size")["entries"]
    sizes = [entry.get("size", -1) for entry in by_size]
    assert sizes == sorted(sizes, reverse=True)
    (temp_home / "Downloads" / "zzz-new.txt").write_text("x")
    by_newest = ok(builtin_tools, "files.list", path="~/Downloads", sort="newest")["entries"]
    assert by_newest[0]["name"] == "zzz-new.txt"


def test_read_refuses_a_link_in_home_that_leads_out(temp_home: Path, builtin_tools: Registry, tmp_path_factory) -> None:
    """files.read opens beneath $HOME: a symlink inside home pointing at a file outside is not followed out."""
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("outside home\n")
    (temp_home / "Downloads" / "innocent.txt").symlink_to(outside)
    message = error(builtin_tools, "files.read", path="~/Downloads/innocent.txt")
    assert "outside your home folder" in message


def test_tilde_without_slash_before_a_folder_name_means_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """"~Downloads/x" (a slash forgotten) is ~/Downloads/x, since there is no user called Downloads; "~root" is
    still root's home."""
    from llmos.tools.paths import expand_path

    monkeypatch.setenv("HOME", str(tmp_path))
    assert expand_path("~Downloads/a.tmp") == tmp_path / "Downloads/a.tmp"
    assert expand_path("~root") == Path(os.path.expanduser("~root"))


def test_disk_usage_names_the_largest_files_anywhere_below_but_no_secret_one(
        temp_home: Path, builtin_tools: Registry) -> None:
    """The biggest items are often folders; "the biggest file in my home" is answered by `largest_files`, which
    looks inside every folder. A secret file (an SSH key) is never named, however large."""
    (temp_home / ".ssh").mkdir()
    (temp_home / ".ssh" / "id_rsa").write_bytes(b"k" * 10_000_000)
    usage = ok(builtin_tools, "files.disk_usage", path="~", top=1)
    files = [path for path in temp_home.rglob("*") if path.is_file() and ".ssh" not in path.parts]
    files.sort(key=lambda path: (-path.stat().st_size, str(path)))
    expected = ["~/" + str(path.relative_to(temp_home)) for path in files[:3]]
    assert [item["path"] for item in usage["largest_files"]] == expected
    assert usage["largest_files"][0]["size"] == files[0].stat().st_size
    assert "id_rsa" not in str(usage)


def test_find_names_its_oldest_newest_and_largest_match_whatever_its_sort(
        temp_home: Path, builtin_tools: Registry) -> None:
    """Sorted by name and limited to one, a find still says which match is oldest, newest and largest: the
    1.5B model answered "the oldest download" from the first name."""
    downloads = temp_home / "Downloads"
    for age_days, name in ((40, "old.iso"), (1, "new.txt"), (10, "mid.zip")):
        target = downloads / name
        target.write_bytes(b"x" * (1000 if name == "mid.zip" else 10))
        stamp = time.time() - age_days * 86400
        os.utime(target, (stamp, stamp))
    found = ok(builtin_tools, "files.find", path="~/Downloads", name="*", sort="name", limit=1)
    assert found["shown"] == 1
    all_files = [path for path in downloads.rglob("*") if path.is_file()]
    oldest = min(all_files, key=lambda path: path.stat().st_mtime)
    newest = max(all_files, key=lambda path: path.stat().st_mtime)
    largest = max(all_files, key=lambda path: path.stat().st_size)
    assert found["oldest_file"]["path"] == f"~/Downloads/{oldest.relative_to(downloads)}"
    assert found["newest_file"]["path"] == f"~/Downloads/{newest.relative_to(downloads)}"
    assert found["largest_file"]["path"] == f"~/Downloads/{largest.relative_to(downloads)}"
    one = ok(builtin_tools, "files.find", path="~/Downloads", name="old.iso")
    assert "oldest_file" not in one  # one file is its own oldest: nothing to add
