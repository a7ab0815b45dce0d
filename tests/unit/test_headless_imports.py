"""Core modules stay headless: importing them (in a fresh interpreter) loads no UI library.

harlequin's pattern: the daemon, pipe mode and `llmos-ask` must start fast and work without a terminal, so
textual, prompt_toolkit and rich may only be imported by the UI front ends (rich lazily, for progress bars).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

UI_LIBRARIES = ("textual", "prompt_toolkit", "rich")

HEADLESS_MODULES = (
    "llmos.session",
    "llmos.events",
    "llmos.runtime",
    "llmos.config",
    "llmos.tools",
    "llmos.models.resolve",
    "llmos.models.prompt",
    "llmos.policies.decision",
    "llmos.shell.ask",
    "llmos.cli",
    "llmos.shell.sysmon",
    "llmos.assistant",
    "llmos.connect",
    "llmos.shell.history",
    "llmos.fastpath",
    "llmos.answers",
    "llmos.learning",
    "llmos.commands.feedback",
    "llmos.suggest",
    "llmos.daemon.protocol",
    "llmos.daemon.client",
    "llmos.daemon.server",
    "llmos.models.decoding",
    "llmos.commands.daemon",
    "llmos.commands.interactive",
)


def imported_after(statements: str, watched: tuple[str, ...], cwd: Path) -> list[str]:
    """Run `statements` in a fresh interpreter; the watched top-level packages it left in sys.modules."""
    probe = f"{statements}\nimport json, sys\nprint(json.dumps(sorted(n for n in {watched!r} if n in sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_importing_core_module_loads_no_ui_library(module: str, tmp_path: Path) -> None:
    """`import <module>` (and, for llmos.tools, registering the built-ins) imports none of
    textual/prompt_toolkit/rich."""
    statements = f"import {module}"
    if module == "llmos.tools":
        statements += "\nllmos.tools.load_builtin_tools()"
    assert imported_after(statements, UI_LIBRARIES, tmp_path) == []


@pytest.mark.parametrize("module", ["llmos.shell.ask", "llmos.cli"])
def test_entry_points_do_not_import_llama_cpp(module: str, tmp_path: Path) -> None:
    """The command-line entry points import llama.cpp only when a model is loaded, so --help and usage errors are
    fast."""
    assert imported_after(f"import {module}", ("llama_cpp",), tmp_path) == []


def test_probe_detects_an_imported_library(tmp_path: Path) -> None:
    """The probe itself works: a module that imports rich is reported (guards against a vacuous pass)."""
    assert imported_after("import rich.console", UI_LIBRARIES, tmp_path) == ["rich"]
