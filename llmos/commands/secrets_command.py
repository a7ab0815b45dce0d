"""`llmos secrets set|get|list|delete NAME`: secrets in the OS keyring (see llmos/secrets.py).

A value is read from stdin or typed without echo, never taken from the command line, where `ps` and shell
history would show it.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from llmos.display import raw_stream
from llmos.errors import UsageError
from llmos.secrets import SecretStore


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    secrets = commands.add_parser("secrets", help="API keys and tokens in the OS keyring: set, get, list, delete")
    actions = secrets.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    setting = actions.add_parser("set", help="store a secret (the value is typed without echo, or piped in)")
    setting.add_argument("name", metavar="NAME", help="the secret's name, e.g. remote-api-key")
    getting = actions.add_parser("get", help="print a secret's value")
    getting.add_argument("name", metavar="NAME", help="the secret's name")
    actions.add_parser("list", help="the names of stored secrets (never their values)")
    deleting = actions.add_parser("delete", help="remove a secret from the keyring")
    deleting.add_argument("name", metavar="NAME", help="the secret's name")
    secrets.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    store = SecretStore()
    action = options.secrets_command
    if action == "list":
        for name in store.names():
            print(name)
        return 0
    if action == "get":
        value = store.get(options.name)
        # The value is data for `$(llmos secrets get NAME)`: exact in a pipe; escaped only on a terminal.
        stdout = sys.stdout if sys.stdout.isatty() else raw_stream(sys.stdout)
        print(value, file=stdout)
        return 0
    if action == "delete":
        store.delete(options.name)
        print(f"deleted {options.name}")
        return 0
    problem = store.backend_problem()
    if problem:
        raise UsageError(problem)
    store.set(options.name, _read_value(options.name))
    print(f"stored {options.name} in the keyring")
    return 0


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"value for {name}: ")
    # Piped: the first line (a trailing newline is not part of a token).
    return sys.stdin.readline().rstrip("\r\n")
