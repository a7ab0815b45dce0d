"""`llmos` management commands in-process: help, `models list` (table and JSON), `models verify` errors.

Every test runs with XDG folders in tmp and no LLMOS_MODEL, so nothing of this machine's cache is read or touched.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llmos.models.registry import load_registry

from llmos.cli import main

REGISTRY = load_registry()
MODEL_NAMES = REGISTRY.names()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG folders in tmp, no LLMOS_MODEL, offline, and the working directory in tmp."""
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    monkeypatch.delenv("LLMOS_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_registry_has_two_models_to_list() -> None:
    """The listing tests below assume both registry models (1.5B default, 0.5B) are there."""
    assert len(MODEL_NAMES) == 2
    assert REGISTRY.default_name in MODEL_NAMES


def test_no_arguments_opens_the_tui(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bare `llmos` runs the interactive TUI with the configured model and policy, and returns its exit code."""
    from llmos.commands import interactive

    opened: list[argparse.Namespace] = []
    monkeypatch.setattr(interactive, "run_tui", lambda options: opened.append(options) or 7)
    monkeypatch.setattr("llmos.cli._on_terminal", lambda: True)
    assert main([]) == 7
    assert len(opened) == 1
    assert opened[0].model is None and opened[0].policy is None


def test_no_arguments_off_a_terminal_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    """Bare `llmos` in a pipe or script cannot show a TUI: it prints its help on stdout and exits 0."""
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: llmos") and "llmos-ask" in out
    assert err == ""


def test_help_names_every_command_and_llmos_ask(capsys: pytest.CaptureFixture[str]) -> None:
    """`llmos --help` lists the front ends and management commands, names llmos-ask, and exits 0."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: llmos")
    for command in ("tui", "overlay", "repl", "shell-init", "models", "daemon", "suggest", "undo", "log", "doctor"):
        assert command in out
    assert "llmos-ask" in out and err == ""


def undocumented_options(parser: argparse.ArgumentParser, command: str) -> list[str]:
    """Every argument, option and subcommand under `parser` that `--help` would list without a word about it."""
    missing: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            missing += [f"{command} {choice.dest}" for choice in action._choices_actions if not choice.help]
            for name, subparser in action.choices.items():
                missing += undocumented_options(subparser, f"{command} {name}")
        elif not action.help and not isinstance(action, argparse._HelpAction):
            missing.append(f"{command} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_option_of_every_command_has_help() -> None:
    """`llmos` and `llmos-ask`: each subcommand, argument and option (every `--json` too) says what it does."""
    from llmos.shell.ask import build_parser as build_ask_parser

    from llmos.cli import build_parser

    assert undocumented_options(build_parser(), "llmos") == []
    assert undocumented_options(build_ask_parser(), "llmos-ask") == []


def test_models_list_prints_every_registry_name_and_marks_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    """`models list`: one row per model; only the default's row says `default`; an empty cache says not cached."""
    assert main(["models", "list"]) == 0
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line for line in out.splitlines() if line and not line.startswith(" ")}
    assert set(rows) == set(MODEL_NAMES)
    for name, line in rows.items():
        assert ("default" in line) == (name == REGISTRY.default_name), line
        assert "not cached" in line
    assert err == ""


def test_models_list_table_says_whether_a_cached_model_is_verified(capsys: pytest.CaptureFixture[str]) -> None:
    """The table says what the README promises: which model is the default, which are cached and verified."""
    from llmos.commands.models import _print_model_table

    base = {"size": 1_000_000, "path": "/cache/m.gguf"}
    _print_model_table([
        {**base, "name": "verified-one", "default": True, "cached": True, "verified": True},
        {**base, "name": "unverified-one", "cached": True, "verified": False},
        {**base, "name": "absent-one", "cached": False, "verified": False},
    ])
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")}
    assert "default, cached, verified" in rows["verified-one"]
    assert "cached, not verified yet" in rows["unverified-one"]
    assert "not cached" in rows["absent-one"] and "verified" not in rows["absent-one"]


def test_models_help_names_every_action(capsys: pytest.CaptureFixture[str]) -> None:
    """`llmos --help` names all four `models` actions (pull was missing from the one-line summary)."""
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "list, verify, pull or benchmark models" in " ".join(capsys.readouterr().out.split())


def test_models_list_json_is_valid_json_with_both_names_and_one_default(capsys: pytest.CaptureFixture[str]) -> None:
    """`models list --json`: a JSON array of rows, one per registry model, exactly one marked default."""
    assert main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == MODEL_NAMES
    assert [row["name"] for row in rows if row["default"]] == [REGISTRY.default_name]
    assert all(row["cached"] is False and row["verified"] is False for row in rows)


def test_models_list_paths_point_into_the_xdg_cache(
    isolated_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cache paths `models list` reports are under $XDG_CACHE_HOME/llmos/, as DESIGN.md says."""
    main(["models", "list", "--json"])
    rows = json.loads(capsys.readouterr().out)
    cache_root = isolated_dirs / "xdg_cache_home" / "llmos"
    assert all(Path(row["path"]).is_relative_to(cache_root) for row in rows)


def test_models_verify_unknown_name_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`models verify nope`: exit 2, one stderr line `llmos: unknown model ...`, nothing on stdout."""
    assert main(["models", "verify", "nope"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("llmos: unknown model 'nope'")
    assert "Traceback" not in err


def test_models_verify_name_not_cached_exits_2_with_pull_hint(capsys: pytest.CaptureFixture[str]) -> None:
    """`models verify 0.5b` with an empty cache: exit 2, one line saying how to get the model."""
    assert main(["models", "verify", "0.5b"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("llmos: ") and "llmos models pull" in lines[0]


def test_models_verify_non_gguf_file_exits_2(isolated_dirs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`models verify FILE` with a file that is not GGUF: exit 2, one line."""
    junk = isolated_dirs / "junk.gguf"
    junk.write_bytes(b"not a model at all")
    assert main(["models", "verify", str(junk)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "is not a GGUF model file" in lines[0]


def test_models_without_action_is_an_argparse_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`llmos models` with no action: argparse exits 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(["models"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("args", [[], ["models", "list"], ["models", "list", "--json"]], ids=["help", "list", "json"])
def test_closed_stdout_pipe_exits_quietly_with_141(args: list[str], isolated_dirs: Path) -> None:
    """`llmos ... | head` where the reader is gone: exit 128+SIGPIPE, no traceback or 'Exception ignored'."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before llmos writes: every write fails with EPIPE
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "llmos.cli", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert completed.returncode == 141
    assert completed.stderr == ""


@pytest.mark.parametrize("command", [["models", "bench"], ["daemon", "bench"]], ids=["models", "daemon"])
def test_bench_with_no_runs_is_a_usage_error(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--runs 0` is a usage error for both benches: exit 2 and one line, before anything is loaded or run."""
    assert main([*command, "--runs", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "llmos: --runs must be at least 1\n"
