"""Parse a command line or argv into simple commands and judge what each one does.

`parse_command` / `parse_shell` see through pipes, lists, substitutions, redirections and wrappers (`sh -c`,
`env`, `xargs`, `sudo`, `find -exec`, interpreters' `-c` code); `facts_of` says what one simple command reads,
writes, deletes, runs and reaches on the network. Modules: `lexer` and `words` (shell tokens and word expansion),
`parse` (the command tree), `wrappers` and `embedded` (commands inside commands), `flags` (flag spellings),
`writers` (what file-changing programs touch), `facts` (the facts policy decides on), `types` (shared records).
"""

from llmos.policies.command.facts import facts_of
from llmos.policies.command.flags import flags_of
from llmos.policies.command.parse import ParsedCommand, SimpleCommand, parse_command, parse_shell
from llmos.policies.command.types import CommandFacts, PathFact, Redirect, program_name

__all__ = [
    "CommandFacts",
    "ParsedCommand",
    "PathFact",
    "Redirect",
    "SimpleCommand",
    "facts_of",
    "flags_of",
    "parse_command",
    "parse_shell",
    "program_name",
]
