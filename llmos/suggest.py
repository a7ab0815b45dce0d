"""Turn a request into a shell command line for the person to edit and run (the shell keybinding), judged by
policy as if llmos were to run it. Nothing is executed here."""

from __future__ import annotations

import json

from llmos.assistant import CommandSuggestion
from llmos.models.grammar import call_schema
from llmos.models.prompt import Turn, build_suggest_prefix, render_conversation
from llmos.session import Session

COMMAND_TOOL = "command"
COMMAND_SCHEMA = call_schema(
    [(COMMAND_TOOL, {"type": "object", "properties": {"line": {"type": "string", "maxLength": 400}},
                     "required": ["line"], "additionalProperties": False})]
)
MAX_COMMAND_TOKENS = 160


def suggest_command(session: Session, request: str) -> CommandSuggestion:
    """Ask the model for one command line; policy says how it would be judged (deny is shown commented out)."""
    backend = session.backend
    conversation = render_conversation([Turn("user", request)])
    raw = "".join(backend.generate(build_suggest_prefix(), conversation, COMMAND_SCHEMA, MAX_COMMAND_TOKENS))
    command = _command_of(raw)
    if not command:
        return CommandSuggestion(request, "", "ask", "no-command", "the model suggested no command")
    # As `shell.run` would see it: the line is shell syntax, so policy parses it through `bash -c`.
    decision = session.safety.policy.decide_command(["bash", "-c", command])
    return CommandSuggestion(request, command, decision.verdict, decision.rule, decision.reason)


def _command_of(raw: str) -> str:
    try:
        value = json.loads(raw)
        line = value["args"]["line"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return ""
    # One line: a newline would make the shell run the rest as soon as the person presses Enter once.
    return " ".join(str(line).split("\n")).strip()
