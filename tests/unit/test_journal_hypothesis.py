"""Property: any sequence of journaled operations on a small tree, undone (as one request, or action by action
newest first), gives back the original tree: the same paths, bytes and modes. A refused operation changes
nothing. Runs on one file system and with every move simulated across file systems."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from llmos.policies.journal import Journal, JournalError
from llmos.policies.journal import move as journal_move
from llmos.policies.journal.fileops import FileOps
from trees import snapshot

NAMES = ["a", "b", "d", "d/c", "d/sub", "d/sub/x", "e", "e/f", "g", "g/h"]
MODES = [0o600, 0o640, 0o644, 0o700, 0o755]


def make_tree(root: Path) -> None:
    (root / "d" / "sub").mkdir(parents=True)
    (root / "e").mkdir()
    (root / "a").write_bytes(b"alpha\n")
    (root / "b").write_bytes(b"")
    (root / "d" / "c").write_bytes(b"\x00\xffbinary")
    (root / "d" / "sub" / "x").write_bytes(b"x" * 100)
    (root / "a").chmod(0o600)
    (root / "d" / "sub").chmod(0o750)
    os.symlink("a", root / "link")


operation = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(NAMES), st.binary(max_size=64), st.booleans()),
    st.tuples(st.just("append"), st.sampled_from(NAMES), st.binary(max_size=16)),
    st.tuples(st.just("mkdir"), st.sampled_from(NAMES)),
    st.tuples(st.just("copy"), st.sampled_from(NAMES), st.sampled_from(NAMES), st.booleans()),
    st.tuples(st.just("move"), st.sampled_from([*NAMES, "link"]), st.sampled_from(NAMES), st.booleans()),
    st.tuples(st.just("delete"), st.sampled_from([*NAMES, "link"])),
    st.tuples(st.just("chmod"), st.sampled_from(NAMES), st.sampled_from(MODES)),
)


def apply(ops: FileOps, root: Path, step: tuple) -> str:
    kind = step[0]
    if kind == "write":
        return ops.write(root / step[1], step[2], create_only=step[3])
    if kind == "append":
        return ops.append(root / step[1], step[2])
    if kind == "mkdir":
        return ops.mkdir(root / step[1])
    if kind == "copy":
        return ops.copy(root / step[1], root / step[2], overwrite=step[3])
    if kind == "move":
        return ops.move(root / step[1], root / step[2], overwrite=step[3])
    if kind == "delete":
        return ops.delete(root / step[1])
    mode = step[2] | (0o700 if (root / step[1]).is_dir() else 0)  # keep folders enterable for non-root runs
    return ops.chmod(root / step[1], mode)


def run_then_undo(steps: list[tuple], per_action: bool, cross_device: bool) -> None:
    with tempfile.TemporaryDirectory() as temp, \
            mock.patch.object(journal_move, "cross_device", lambda a, b: cross_device):
        root = Path(temp) / "tree"
        root.mkdir()
        make_tree(root)
        original = snapshot(root)
        journal = Journal(Path(temp) / "journal")
        ops = FileOps(journal, "request-1", "random operations")
        done = []
        for step in steps:
            before = snapshot(root)
            try:
                done.append(apply(ops, root, step))
            except JournalError:
                assert snapshot(root) == before, f"a refused {step[0]} changed the tree"
        if per_action:
            for action_id in reversed(done):
                report = journal.undo(action_id)
                assert report.ok, report.refused
        elif done:
            report = journal.undo("request-1")
            assert report.ok, report.refused
            assert len(report.undone) == len(done)
        assert snapshot(root) == original
        assert not [p for p in root.rglob(".llmos-*")]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=10))
def test_random_operations_undone_as_one_request_restore_the_tree(steps):
    run_then_undo(steps, per_action=False, cross_device=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=10))
def test_random_operations_undone_one_by_one_newest_first_restore_the_tree(steps):
    run_then_undo(steps, per_action=True, cross_device=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=8))
def test_random_operations_across_file_systems_restore_the_tree(steps):
    run_then_undo(steps, per_action=False, cross_device=True)


class _OldestFirst:
    """The pinned example's undo order: as done, oldest action first (the order that strands two of them)."""

    def shuffle(self, items: list) -> None:
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(operation, min_size=1, max_size=8), order=st.randoms(use_true_random=False))
# Found by hypothesis in CI: undoing the first move (b over a) first puts the old b back, where the third action
# (b moved to e/f) would put its b back, so that undo and the copy's are refused, untouched, for good.
@example(steps=[("move", "b", "a", True), ("copy", "d", "b", False), ("move", "b", "e/f", False)],
         order=_OldestFirst())
def test_undo_in_any_order_either_succeeds_or_changes_nothing(steps, order):
    """Undoing actions out of order: each undo is refused untouched when its files are not as its action left
    them; what is left is then undone newest first. An action an earlier out-of-order undo stranded (its place
    taken by what that undo put back) is refused untouched every time; when none is stranded, the tree is the
    original again."""
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "tree"
        root.mkdir()
        make_tree(root)
        original = snapshot(root)
        journal = Journal(Path(temp) / "journal")
        ops = FileOps(journal, "request-1")
        done = []
        for step in steps:
            try:
                done.append(apply(ops, root, step))
            except JournalError:
                pass
        shuffled = list(done)
        order.shuffle(shuffled)
        for action_id in shuffled:
            before = snapshot(root)
            report = journal.undo(action_id)
            if not report.ok:
                assert not report.undone and snapshot(root) == before
        for action_id in reversed(done):
            if journal.load(action_id).status == "done":
                before = snapshot(root)
                report = journal.undo(action_id)
                if not report.ok:
                    assert not report.undone and snapshot(root) == before
        stranded = [action_id for action_id in done if journal.load(action_id).status == "done"]
        if not stranded:
            assert snapshot(root) == original
