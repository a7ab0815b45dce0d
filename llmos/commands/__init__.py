"""The `llmos` subcommands, one module each: `register(subparsers)` adds its parser and sets `handler`."""
