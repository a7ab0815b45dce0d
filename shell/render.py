"""Human rendering of a request's steps, shared by `llmos-ask` and the REPL: the one line each step leaves, and
the lines a person reads before approving one. Plain text only, so headless front ends can import it."""

from __future__ import annotations

import json

from llmos.display import escape_for_display
from llmos.events import RequestFinished, Step


def step_line(step: Step) -> str:
    """`  · tool key="value" -> status [verdict: rule]`; the verdict only when policy did not simply allow."""
    decision = step.decision
    verdict = f" [{decision.verdict}: {decision.rule}]" if decision and decision.verdict != "allow" else ""
    # Arguments come from the model, which may have read hostile content: a terminal escape in them must show
    # as text, not act on the terminal.
    return escape_for_display(f"  · {step.tool} {_args_text(step)} -> {step.status}{verdict}")


def approval_lines(step: Step) -> list[str]:
    """What the step would do, for the person deciding: tool, rule and reason, then one line per path,
    process or argv it touches (the preview), or the call itself when the tool has no preview."""
    rule = step.decision.rule if step.decision else "no rule"
    reason = step.decision.reason if step.decision else ""
    lines = [escape_for_display(f"llmos wants to run {step.tool} ({rule}: {reason})")]
    # The preview is already escaped where it is made (paths can hold any byte); escaping again would turn
    # its visible `\n` into `\\n`.
    preview_lines = step.preview or [_call_line(step)]
    lines.extend(f"    {line}" for line in preview_lines)
    return lines


def _call_line(step: Step) -> str:
    return escape_for_display(f"{step.tool} {_args_text(step)}".rstrip())


def _args_text(step: Step) -> str:
    return " ".join(
        f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in step.args.items() if value is not None
    )


def answer_text(text: str) -> str:
    """Answer text fit for a terminal: line breaks kept, every other control or bidi character shown as an
    escape. The model may repeat what it read (a file, command output), and an escape sequence there must not
    reach the terminal."""
    return "\n".join(escape_for_display(line) for line in text.split("\n"))


def replaced_answer_note(outcome: RequestFinished) -> str | None:
    """One line saying the model's answer was set aside, and why, when llmos answered from the results instead;
    None when the answer shown is the model's own (checked) or an outcome llmos states in the answer itself. Not
    escaped: the facts are the model's words, so each front end escapes it as it shows it."""
    if not outcome.ungrounded:
        return None
    facts = ", ".join(outcome.ungrounded[:5]) + (", ..." if len(outcome.ungrounded) > 5 else "")
    return f"(answered from the tool results: the model's answer stated {facts}, which no result holds)"
