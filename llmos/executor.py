"""One step's way from a planned call to a result: impact preview -> policy -> approval -> journaled execution
-> audit record. The session owns the conversation; this module owns what makes acting safe.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from llmos.answers.outcomes import DECLINED_REASON, DRY_RUN_REASON, NOT_ASKED_REASON
from llmos.effects import Effect
from llmos.events import ApprovalNeeded, Event, Step, StepDecided, StepFinished, StepInProgress
from llmos.planted import set_aside_in
from llmos.policies.audit import AuditEntry
from llmos.policies.decision import VERDICT_STRICTNESS, Decision, Policy, PolicyCall
from llmos.policies.impact import Impact, describe_impact
from llmos.policies.journal.pin import PathPin, pin_change, pin_path
from llmos.policies.sandbox.confine import Confinement
from llmos.secrets import SecretRedactor
from llmos.tools.context import ToolContext, using_context
from llmos.tools.paths import home_dir
from llmos.tools.registry import ToolError, ToolSpec

Approver = Callable[[Step], bool]


FileOpsFactory = Callable[[str, str, str], Any]
"""(request id, request, tool) -> journaled file operations (`llmos.policies.journal.fileops.FileOps`)."""


class AuditLike(Protocol):
    def append(self, entry: AuditEntry) -> object: ...


@dataclass(frozen=True)
class Safety:
    """The safety machinery a session acts through. Without a journal, file changes are refused (nothing
    may change that cannot be undone); without an audit log, nothing is recorded (tests only)."""

    policy: Policy
    file_ops: FileOpsFactory | None = None
    audit: AuditLike | None = None
    intent: Callable[[str], frozenset[Effect]] | None = None
    """The effect classes a request's own words allow; None allows every class (tests only)."""
    writable_roots: tuple[Path, ...] = ()
    """Where sandboxed commands may write; none by default, as their writes cannot be journaled."""
    redact: SecretRedactor | None = None
    """The one redaction step (`llmos.secrets.SecretRedactor`): blanks stored secrets out of each call's arguments
    and result, before any budget cuts it and before the audit log, the journal, the model or a front end sees
    it."""

    def redact_text(self, text: str) -> str:
        return self.redact(text) if self.redact is not None else text

    def redact_value(self, value: Any) -> Any:
        return self.redact.redact_value(value) if self.redact is not None else value


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


class StepRunner:
    """Runs the steps of one request."""

    def __init__(
        self,
        safety: Safety,
        *,
        request_id: str,
        request: str,
        allowed_effects: frozenset[Effect] | None,
        approver: Approver | None,
        dry_run: bool,
        result_budget_chars: int,
    ) -> None:
        self.safety = safety
        self.request_id = request_id
        self.request = request
        self.allowed_effects = allowed_effects
        self.approver = approver
        self.dry_run = dry_run
        self.result_budget_chars = result_budget_chars

    def run(self, spec: ToolSpec, step: StepInProgress, impact: Impact | None = None) -> Iterator[Event]:
        """`impact`: the preview a caller already judged the call on (an automation's scope check); it is the one
        decided, approved and run, never recomputed from files that may have changed since."""
        if impact is None:
            try:
                impact = spec.impact(step.args)
            except ToolError as exc:
                # The call cannot even be previewed (no such file, bad glob): nothing is run. What it names is
                # still judged: naming a protected target is a deny, whether or not the target exists right now.
                if exc.named is not None and (denial := self._named_denial(spec, step, exc.named)) is not None:
                    yield from self.refuse(step, exc.named, denial)
                    return
                yield from self.fail(step, exc)
                return
        step.preview = describe_impact(impact, home_dir())
        # Pinned as decided: execution checks them again and acts on these physical paths, never on what the
        # paths lead to later (a folder swapped for a symlink while the approval is pending).
        pins = {str(effect.path): pin_path(effect.path) for effect in impact.paths}
        call = PolicyCall(
            tool=spec.name, effect=spec.effect, args=step.args, impact=impact,
            allowed_effects=self.allowed_effects,
        )
        step.decision = self._decide(call, pins)
        yield StepDecided(step.snapshot())
        if step.decision.verdict == "deny":
            step.approved = False
            step.status = "denied"
            step.result = _not_run(f"denied by policy ({step.decision.rule}): {step.decision.reason}")
        elif self.dry_run and spec.effect is not Effect.READ:
            step.status = "skipped"
            step.result = _not_run(DRY_RUN_REASON)
        elif step.decision.verdict == "ask" and not (yield from self._approve(step)):
            step.approved = False
            step.status = "skipped"
            step.result = _not_run(NOT_ASKED_REASON if self.approver is None else DECLINED_REASON)
        else:
            step.approved = True
            self._execute(spec, step, call, pins)
        self._audit(step)
        yield StepFinished(step.snapshot())

    def fail(self, step: StepInProgress, error: ToolError) -> Iterator[Event]:
        """Record `step` as failed with `error`, read by the model as the call's result: nothing is run."""
        step.status = "error"
        step.result = self.safety.redact_text(json.dumps(error.payload()))
        self._audit(step)
        yield StepFinished(step.snapshot())

    def refuse(self, step: StepInProgress, impact: Impact, decision: Decision) -> Iterator[Event]:
        """Record `step` as denied by `decision`, already made on `impact`: nothing is previewed again or run."""
        step.preview = describe_impact(impact, home_dir())
        step.decision = decision
        yield StepDecided(step.snapshot())
        step.approved = False
        step.status = "denied"
        step.result = _not_run(f"denied by policy ({decision.rule}): {decision.reason}")
        self._audit(step)
        yield StepFinished(step.snapshot())

    def _named_denial(self, spec: ToolSpec, step: StepInProgress, named: Impact) -> Decision | None:
        decision = self._decide(PolicyCall(tool=spec.name, effect=spec.effect, args=step.args, impact=named,
                                           allowed_effects=self.allowed_effects), {})
        return decision if decision.verdict == "deny" else None

    def _decide(self, call: PolicyCall, pins: Mapping[str, PathPin]) -> Decision:
        """The policy's decision on the call, and also on the pinned physical paths where they differ from the
        paths as named: what runs is the pinned path, so it is judged itself (the stricter decision wins)."""
        try:
            decision = self.safety.policy.decide(call)
            physical = tuple(replace(effect, path=Path(pin.physical)) if pin.physical is not None else effect
                             for effect in call.impact.paths
                             for pin in [pins[str(effect.path)]])
            if physical == call.impact.paths:
                return decision
            on_physical = self.safety.policy.decide(replace(call, impact=replace(call.impact, paths=physical)))
            return max(decision, on_physical, key=lambda each: VERDICT_STRICTNESS[each.verdict])
        except Exception as exc:  # noqa: BLE001  a policy that fails must refuse, never allow (fail closed)
            return Decision("deny", "policy-error", f"the policy could not decide: {exc}")

    def _approve(self, step: StepInProgress) -> Generator[Event, None, bool]:
        """Ask the front end; no approver (a script, `--no-input`) means not approved."""
        asked = step.snapshot()
        yield ApprovalNeeded(asked)
        return self.approver is not None and bool(self.approver(asked))

    def _execute(self, spec: ToolSpec, step: StepInProgress, call: PolicyCall, pins: Mapping[str, PathPin]) -> None:
        impact = call.impact
        changed = next((reason for pin in pins.values() if (reason := pin_change(pin)) is not None), None)
        if changed is not None:
            step.status = "error"
            step.result = json.dumps(ToolError(f"{changed}; nothing was done, ask again").payload())
            return
        recorder = _RecordingFileOps(
            self.safety.file_ops(self.request_id, self.safety.redact_text(self.request), spec.name)
            if self.safety.file_ops else None,
            pins,
        )
        context = ToolContext(
            request_id=self.request_id,
            file_ops=recorder if recorder.inner is not None else None,
            approved_impact=impact if not impact.is_empty else None,
            writable_roots=self.safety.writable_roots,
            network=self._grants_network(call),
            is_secret=self._is_secret,
            confinement=self._confinement(),
        )
        with using_context(context):
            result = spec.call(step.args)
        step.status = "ok" if result.ok else "error"
        # Redacted before the budget cuts it: a cut never leaves part of a secret readable. Instructions planted
        # in the data for an assistant are set aside there too (`llmos.planted`): the model reads the data only.
        step.result = self.safety.redact_text(result.for_model(
            self.result_budget_chars, redact=lambda data: set_aside_in(self.safety.redact_value(data))))
        if len(recorder.action_ids) == 1:
            step.undo_id = recorder.action_ids[0]
        elif recorder.action_ids:
            step.undo_id = self.request_id  # several journaled actions: undo the request as a whole

    def _grants_network(self, call: PolicyCall) -> bool:
        """Only a policy rule for this very command opens the sandbox's network; anything else keeps it shut."""
        try:
            return self.safety.policy.grants_network(call)
        except Exception:  # noqa: BLE001  fail closed
            return False

    def _is_secret(self, path: Path) -> bool | None:
        """The policy's secret rule for the files a tool walks; a policy that fails calls it a secret."""
        try:
            return self.safety.policy.is_secret(path)
        except AttributeError:
            return None  # a policy without the rule: the tools apply the default profile's
        except Exception:  # noqa: BLE001  fail closed
            return True

    def _confinement(self) -> Confinement | None:
        """The active profile's secrets and protected paths, for the sandbox to hide and keep read-only; a policy
        without them leaves the sandbox to the default profile's (never to nothing)."""
        try:
            return self.safety.policy.sandbox_confinement()
        except Exception:  # noqa: BLE001  the default profile's confinement then applies, never none
            return None

    def _audit(self, step: StepInProgress) -> None:
        if self.safety.audit is None:
            return
        self.safety.audit.append(
            AuditEntry(
                request_id=self.request_id,
                request=self.safety.redact_text(self.request),
                tool=step.tool,
                args=self.safety.redact_value(step.args),
                decision=step.decision.verdict if step.decision else None,
                rule=step.decision.rule if step.decision else None,
                reason=self.safety.redact_text(step.decision.reason) if step.decision else None,
                approved=step.approved,
                status=step.status,
                undo_id=step.undo_id,
            )
        )


class _RecordingFileOps:
    """Passes every operation to the journal's FileOps and keeps the action ids it returns (for undo_id). Each
    path the operation changes goes as the pin made when the call was decided, so the journal acts on the
    physical path that was decided on; a path changed that was not decided on is refused (fail closed). A copy's
    source may be unpinned: a tool's own staging (an archive built in a temporary folder)."""

    def __init__(self, inner: Any | None, pins: Mapping[str, PathPin]) -> None:
        self.inner = inner
        self.pins = pins
        self.action_ids: list[str] = []

    def _pinned(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        names = ("src", "dst") if operation in ("copy", "move") else ("path",)
        values = list(args)
        for index, name in enumerate(names):
            if index < len(values):
                values[index] = self._pin(operation, index, values[index])
            elif name in kwargs:
                kwargs[name] = self._pin(operation, index, kwargs[name])
        return tuple(values)

    def _pin(self, operation: str, index: int, value: Any) -> Any:
        pin = self.pins.get(os.path.normpath(os.fspath(value))) if isinstance(value, (str, os.PathLike)) else None
        if pin is not None:
            return pin
        if operation == "copy" and index == 0:
            return value
        named = os.fspath(value) if isinstance(value, (str, os.PathLike)) else repr(value)
        raise ToolError(f"{named} is not among the paths that were decided on; nothing was done")

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self.inner, name)

        def recorded(*args: Any, **kwargs: Any) -> Any:
            action_id = operation(*self._pinned(name, args, kwargs), **kwargs)
            if isinstance(action_id, str):
                self.action_ids.append(action_id)
            return action_id

        return recorded


def _not_run(reason: str) -> str:
    return json.dumps({"not_run": reason})
