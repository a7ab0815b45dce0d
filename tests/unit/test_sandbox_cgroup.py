"""The per-run cgroup: where it is made (cgroup v1 or v2, own cgroup or the root), and that it always says why
when it cannot be made."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmos.policies.sandbox import cgroup as sandbox_cgroup
from llmos.policies.sandbox.cgroup import _Hierarchy, _v2_parent, create_run_cgroup


def fake_v2(tmp_path: Path, own: dict[str, str], root: dict[str, str]) -> _Hierarchy:
    mount = tmp_path / "cgroup"
    own_dir = mount / "user.slice" / "session.scope"
    own_dir.mkdir(parents=True)
    for directory, files in ((own_dir, own), (mount, root)):
        for name, text in files.items():
            (directory / name).write_text(text)
    return _Hierarchy(2, mount, frozenset({"pids", "memory"}), "/user.slice/session.scope")


def test_v2_uses_the_own_cgroup_when_it_offers_the_controllers(tmp_path: Path) -> None:
    hierarchy = fake_v2(
        tmp_path,
        own={"cgroup.controllers": "cpu pids memory", "cgroup.subtree_control": "pids memory"},
        root={"cgroup.controllers": "cpu pids memory", "cgroup.subtree_control": "pids memory"},
    )
    problems: list[str] = []
    assert _v2_parent(hierarchy, ["memory", "pids"], problems) == hierarchy.mount / "user.slice" / "session.scope"
    assert problems == []


def test_v2_falls_back_to_the_root_when_the_own_cgroup_cannot_delegate(tmp_path: Path) -> None:
    """A systemd session scope holds processes and has no pids controller to give: use the hierarchy root."""
    hierarchy = fake_v2(
        tmp_path,
        own={"cgroup.controllers": "cpu", "cgroup.subtree_control": ""},
        root={"cgroup.controllers": "cpu pids memory", "cgroup.subtree_control": "pids memory"},
    )
    problems: list[str] = []
    assert _v2_parent(hierarchy, ["pids"], problems) == hierarchy.mount
    assert problems == []


def test_v2_without_the_controllers_anywhere_says_why(tmp_path: Path) -> None:
    hierarchy = fake_v2(
        tmp_path,
        own={"cgroup.controllers": "cpu", "cgroup.subtree_control": ""},
        root={"cgroup.controllers": "cpu", "cgroup.subtree_control": ""},
    )
    problems: list[str] = []
    assert _v2_parent(hierarchy, ["pids"], problems) is None
    assert problems and "pids not available" in problems[0]


def test_no_cgroup_file_system_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_cgroup, "_hierarchies", lambda: [])
    run = create_run_cgroup(64, 1 << 30)
    assert run.applied == [] and run.fds == []
    assert "no cgroup hierarchy" in run.problems[0]
    run.close()


def test_a_real_run_cgroup_is_made_and_removed_or_explained() -> None:
    """On this machine: either cgroups were made (and are gone after close) or the problems say why not."""
    run = create_run_cgroup(64, 1 << 30)
    dirs = list(run.dirs)
    try:
        assert run.applied or run.problems
        for directory in dirs:
            assert directory.name.startswith(sandbox_cgroup.PREFIX)
    finally:
        run.close()
    assert not any(directory.exists() for directory in dirs)
