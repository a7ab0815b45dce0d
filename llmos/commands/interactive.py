"""The interactive front ends' commands: `llmos` / `llmos tui`, `llmos overlay`, `llmos repl`,
`llmos shell-init bash|zsh|fish`. The UI libraries are imported only when one of them runs."""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tui = commands.add_parser("tui", help="the interactive TUI (also what `llmos` alone runs)")
    _add_session_options(tui)
    tui.set_defaults(handler=run_tui, draws_on_terminal=True)
    overlay = commands.add_parser("overlay", help="a compact inline prompt for a desktop hotkey; Esc closes it")
    _add_session_options(overlay)
    overlay.add_argument("query", nargs="*", help="start with this request already typed (Enter sends it)")
    overlay.set_defaults(handler=run_overlay, draws_on_terminal=True)
    repl = commands.add_parser("repl", help="a plain-terminal prompt (ssh, no mouse): history, completion, y/n/a")
    _add_session_options(repl)
    repl.set_defaults(handler=run_repl, draws_on_terminal=True)
    shell_init = commands.add_parser(
        "shell-init",
        help="print the keybinding snippet for your shell's rc file (Alt+M: the typed request becomes a command)",
    )
    shell_init.add_argument("shell", choices=SHELLS, help="the shell whose rc file gets the snippet")
    shell_init.set_defaults(handler=run_shell_init)


def _add_session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="NAME|PATH", help="model registry name or GGUF path")
    parser.add_argument("--policy", metavar="NAME|PATH", help="policy profile")


def run_tui(options: argparse.Namespace) -> int:
    from llmos.shell.tui.app import run_app

    return run_app(model=options.model, policy=options.policy)


def run_overlay(options: argparse.Namespace) -> int:
    from llmos.shell.tui.overlay import run_overlay as run

    return run(model=options.model, policy=options.policy, initial_request=" ".join(options.query).strip())


def run_repl(options: argparse.Namespace) -> int:
    from llmos.shell.repl import run_repl as run

    return run(model=options.model, policy=options.policy)


def run_shell_init(options: argparse.Namespace) -> int:
    from llmos.shell.shell_init import snippet_for

    print(snippet_for(options.shell))
    return 0
