"""The macOS Seatbelt profile, tested on its text (there is no macOS here): deny by default, the same roots as
the Linux sandbox, network only when allowed, strings escaped."""

from __future__ import annotations

import re

import pytest
from llmos.policies.sandbox.seatbelt import canonical_macos_path, sbpl_string, seatbelt_profile


def balanced(text: str) -> bool:
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == ";":
            continue
        if char == '"':
            in_string = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not in_string


def code_lines(profile: str) -> list[str]:
    return [line for line in profile.splitlines() if not line.lstrip().startswith(";")]


def test_profile_denies_by_default_and_allows_running_programs() -> None:
    profile = seatbelt_profile(["/usr"], [], network=False)
    lines = profile.splitlines()
    assert lines[0] == "(version 1)"
    assert "(deny default)" in lines
    assert "(allow process-exec)" in lines and "(allow process-fork)" in lines
    assert "(allow default)" not in profile
    assert balanced(profile)


def test_readable_roots_are_read_only_and_writable_roots_writable() -> None:
    profile = seatbelt_profile(["/Users/me/Documents", "/usr"], ["/Users/me/Projects/x"], network=False)
    read_block = profile.split("(allow file-read*\n", 1)[1].split("\n)\n", 1)[0]
    assert '(subpath "/Users/me/Documents")' in read_block and '(subpath "/usr")' in read_block
    write_block = profile.split("(allow file-read* file-write*\n", 1)[1]
    assert '(subpath "/Users/me/Projects/x")' in write_block
    assert '"/Users/me/Documents"' not in write_block
    writes = [line for line in code_lines(profile) if "file-write" in line]
    assert all("file-write-data (literal" in line or "file-read* file-write*" in line for line in writes)


def test_no_write_rule_for_a_path_outside_the_writable_roots() -> None:
    profile = seatbelt_profile(["/"], [], network=False)
    assert "file-write*" not in profile
    assert "(allow file-write-data (literal \"/dev/null\")" in profile


def test_network_only_when_allowed() -> None:
    closed = seatbelt_profile(["/usr"], [], network=False)
    opened = seatbelt_profile(["/usr"], [], network=True)
    assert not any("network" in line for line in code_lines(closed))
    assert "(allow network*)" in opened
    assert balanced(opened)


@pytest.mark.parametrize(
    ("raw", "literal"),
    [
        ('/Users/me/we"ird', '"/Users/me/we\\"ird"'),
        ("/Users/me/back\\slash", '"/Users/me/back\\\\slash"'),
        ('/x") (allow default) ("', '"/x\\") (allow default) (\\""'),
    ],
)
def test_strings_are_escaped_so_a_path_cannot_inject_rules(raw: str, literal: str) -> None:
    """A quote in a path cannot close the string and add `(allow default)`."""
    assert sbpl_string(raw) == literal
    profile = seatbelt_profile([raw], [raw], network=False)
    assert balanced(profile)
    assert not any(re.match(r"^\s*\(allow default\)", line) for line in profile.splitlines())
    assert f"(subpath {literal})" in profile


@pytest.mark.parametrize("bad", ["/x\ny", "/x\x00y", "/x\ry", "/x\x1b[0m"])
def test_control_characters_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        seatbelt_profile([bad], [], network=False)


def test_relative_roots_are_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        seatbelt_profile(["Documents"], [], network=False)


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/tmp", "/private/tmp"),
        ("/tmp/work", "/private/tmp/work"),
        ("/var/folders/x", "/private/var/folders/x"),
        ("/etc/hosts", "/private/etc/hosts"),
        ("/tmpfoo", "/tmpfoo"),
        ("/Users/me/./a/../b/", "/Users/me/b"),
    ],
)
def test_macos_symlinked_folders_are_written_in_their_real_form(path: str, canonical: str) -> None:
    """Seatbelt matches resolved paths, so /tmp must be written as /private/tmp or the rule never applies."""
    assert canonical_macos_path(path) == canonical


def test_duplicate_roots_appear_once() -> None:
    profile = seatbelt_profile(["/usr", "/usr/", "/usr/./"], [], network=False)
    assert profile.count('(subpath "/usr")') == 1
