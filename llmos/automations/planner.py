"""A request in words -> a structured rule, once, by the model under a JSON schema; then checked like any call.

The model is asked only here; the daemon runs the approved rule without it. Its output is decoded under a schema
(a trigger, and one call among the tools a rule may use), and the result is checked again: the tool's arguments
against its own schema (with a sample file for the placeholders), the watched folder made absolute, and a rule
that would trigger on its own output refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic

from llmos.automations.rules import (
    NOTIFY_TOOL,
    Action,
    Rule,
    Trigger,
    placement_problem,
    self_trigger_problem,
)
from llmos.effects import Effect
from llmos.errors import UsageError
from llmos.models.backend import Backend
from llmos.models.grammar import call_schema
from llmos.models.prompt import Turn, build_rule_prefix, render_conversation
from llmos.policies.decision import Decision, Policy, PolicyCall
from llmos.policies.impact import Impact, PathAction, PathEffect
from llmos.tools.paths import display_path, expand_path
from llmos.tools.registry import Registry, ToolError

RULE_TOOLS = ("files.move", "files.copy", "files.delete", "files.chmod", "files.archive", "files.extract")
"""What a rule may do: file actions the journal can undo, and `notify`."""
NOTIFY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
    "additionalProperties": False,
}
MAX_RULE_TOKENS = 300


def rule_schema(registry: Registry) -> dict[str, Any]:
    """The JSON schema a rule reply is decoded under: every trigger field, and one call of a rule tool."""
    tools = [(spec.name, spec.parameters_schema) for name in RULE_TOOLS if (spec := registry.get(name))]
    tools.append((NOTIFY_TOOL, NOTIFY_SCHEMA))
    trigger = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "events": {"type": "array", "items": {"enum": ["created", "modified", "deleted"]}, "minItems": 1},
            "glob": {"type": "string"},
            "recursive": {"type": "boolean"},
            "batch": {"type": "boolean"},
            "debounce_s": {"type": "number"},
        },
        "required": ["path", "events", "glob", "recursive", "batch", "debounce_s"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"trigger": trigger, "action": call_schema(tools)},
        "required": ["trigger", "action"],
        "additionalProperties": False,
    }


def rule_prefix(registry: Registry) -> str:
    """The static prompt start for a rule: the rule tools this registry has, listed (`build_rule_prefix`)."""
    return build_rule_prefix([spec.signature_line() for name in RULE_TOOLS if (spec := registry.get(name))])


def plan_rule(backend: Backend, registry: Registry, request: str) -> Rule:
    """The model's rule for `request`, checked (`check_rule`); a reply that is no valid rule is a UsageError."""
    conversation = render_conversation([Turn(role="user", text=request)])
    reply = "".join(backend.generate(rule_prefix(registry), conversation, rule_schema(registry), MAX_RULE_TOKENS))
    try:
        raw = json.loads(reply)
        rule = Rule(description=request, trigger=Trigger.model_validate(raw["trigger"]),
                    action=Action.model_validate(raw["action"]))
    except (ValueError, KeyError, TypeError, pydantic.ValidationError) as exc:
        raise UsageError(f"the model did not produce a usable rule ({exc}); try saying it more plainly") from None
    return check_rule(rule, registry)


def check_rule(rule: Rule, registry: Registry) -> Rule:
    """`rule` with its watched folder made absolute (shown with `~`) and `deleted` dropped from the events of a
    file action (the file is gone), or a UsageError saying what is wrong: an unknown tool, arguments its tool
    rejects, a batch action naming one file, a rule that would trigger on itself, a watched file not a folder."""
    folder = expand_path(rule.trigger.path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"an automation watches a folder, and {display_path(folder)} is a file")
    if folder == Path(folder.anchor):
        raise UsageError("an automation cannot watch the whole disk")
    checked = rule.model_copy(update={"trigger": rule.trigger.model_copy(update={"path": display_path(folder)})})
    if checked.action.tool == NOTIFY_TOOL:
        try:
            pydantic.TypeAdapter(_NotifyArgs).validate_python(checked.action.args)
        except pydantic.ValidationError:
            raise UsageError("notify takes one argument, text") from None
    else:
        if checked.action.tool not in RULE_TOOLS or (spec := registry.get(checked.action.tool)) is None:
            raise UsageError(f"an automation cannot use {checked.action.tool!r}; it may use "
                             f"{', '.join((*RULE_TOOLS, NOTIFY_TOOL))}")
        placement = placement_problem(checked.action)
        if placement:
            raise UsageError(f"this rule is refused: {placement}")
        sample = folder / checked.trigger.sample_name()
        try:
            spec.validate(checked.action.for_event(sample, spec.pattern_args))
        except ToolError as exc:
            raise UsageError(str(exc)) from None
        if checked.trigger.batch and checked.action.uses_event_path():
            raise UsageError("a rule for the folder as a whole runs once per burst of changes, so its action "
                             "cannot name one file ({path}); say what should happen to each new file instead")
        if not checked.trigger.batch and not checked.action.uses_event_path():
            raise UsageError("the action never names the event's file ({path}), so it would act on the same "
                             "thing at every event")
        if not checked.trigger.batch and "deleted" in checked.trigger.events:
            # A file action on a file that is gone can only fail; shown to the person before they approve.
            events = [kind for kind in checked.trigger.events if kind != "deleted"] or ["created"]
            checked = checked.model_copy(update={"trigger": checked.trigger.model_copy(update={"events": events})})
    problem = self_trigger_problem(checked)
    if problem:
        raise UsageError(f"this rule is refused: {problem}")
    return checked


class _NotifyArgs(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    text: str


SOURCE_ACTIONS: dict[str, PathAction] = {
    "files.move": "move_from", "files.copy": "read", "files.delete": "delete", "files.chmod": "chmod",
    "files.archive": "read", "files.extract": "read",
}
OUTPUT_ACTIONS: dict[str, PathAction] = {
    "files.move": "move_to", "files.copy": "create", "files.archive": "create", "files.extract": "create",
}


def policy_refusal(rule: Rule, registry: Registry, policy: Policy) -> Decision | None:
    """The policy's deny when it would refuse every run of the rule, judged on a sample event file in the watched
    folder and the folders the arguments name (a rule moving files into ~/.ssh, or watching /etc); else None.
    Each real run is still decided on its own, on the real file."""
    spec = registry.get(rule.action.tool)
    if spec is None or rule.action.tool not in SOURCE_ACTIONS:
        return None
    sample = rule.trigger.folder() / rule.trigger.sample_name()
    effects = [PathEffect(sample, SOURCE_ACTIONS[rule.action.tool])]
    if rule.action.tool in OUTPUT_ACTIONS:
        effects += [PathEffect(root / sample.name, OUTPUT_ACTIONS[rule.action.tool])
                    for root in rule.approved_roots()]
    call = PolicyCall(tool=spec.name, effect=spec.effect, args=rule.action.for_event(sample, spec.pattern_args),
                      impact=Impact(paths=tuple(effects)), allowed_effects=frozenset({spec.effect}))
    decision = policy.decide(call)
    return decision if decision.verdict == "deny" else None


PROTECTION_RULES = frozenset({"secret-path", "protected-path", "llmos-files", "recursive-protected", "policy-error"})
"""The policy's rules for secret and protected paths (and its own failure): a rule near one of them is refused."""


def protected_folder_problem(rule: Rule, policy: Policy) -> str | None:
    """Why the rule watches or names a secret or protected folder, or None. Any tool, notify included: watching
    ~/.ssh tells when keys change, and a rule in ~/.config/autostart acts where programs start from. The watched
    folder is judged as read (with everything beneath it, for a recursive watch) and as a place a file appears;
    each folder the arguments name, likewise. Checked when a rule is added and again when the daemon loads it."""
    sample_name = rule.trigger.sample_name()
    places = [(rule.trigger.folder(), rule.trigger.recursive), *((root, False) for root in rule.approved_roots())]
    for folder, recursive in places:
        for effect in (PathEffect(folder, "read", None, recursive), PathEffect(folder / sample_name, "create")):
            decision = policy.decide(PolicyCall(tool=rule.action.tool, effect=Effect.READ, args={},
                                                impact=Impact(paths=(effect,))))
            if decision.verdict == "deny" and decision.rule in PROTECTION_RULES:
                return f"it reaches {display_path(folder)}, which is secret or protected ({decision.reason})"
    return None


def load_problem(rule: Rule, registry: Registry, policy: Policy) -> str | None:
    """Why a stored rule may not run, or None: the checks it passed when it was added (`check_rule`,
    `protected_folder_problem`), made again on what the rules file says now (it may have been edited by hand)."""
    try:
        check_rule(rule, registry)
    except UsageError as exc:
        return str(exc)
    return protected_folder_problem(rule, policy)
