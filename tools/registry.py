"""The tool registry: `@tool` turns a typed function into a `ToolSpec` whose JSON schema comes from its signature.

The same schema constrains the model's decoding (a grammar branch per tool) and validates the arguments again
before the call, so the two can never drift apart.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import re
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
from llmos.policies.impact import Impact
from llmos.tools.render import compact_for_model, render_within_budget

from llmos.effects import Effect


class ToolError(Exception):
    """A failure the model should read as a result ("error: ..."), not a crash. `missing` is a path that does not
    exist (the model then also reads similar paths that do), `hint` what would fix the call. `named` is what a
    preview found the call names although it cannot run (a process name none runs under): the policy still judges
    it, so a call that names something protected is refused, not merely failed."""

    def __init__(self, message: str, *, missing: Path | None = None, hint: str | None = None,
                 named: Impact | None = None, a_file: str | None = None,
                 suggested: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.missing = missing
        self.suggested = tuple(suggested)
        """Existing paths (as shown) the call probably meant, when the tool knows them (`did_you_mean`)."""
        self.hint = hint
        self.named = named
        self.a_file = a_file
        """A path given where a folder was needed that is a file (as shown): the call to make is a read of it."""

    def payload(self) -> dict[str, Any]:
        """The failure as the model reads it: the message, and what may fix the call."""
        payload: dict[str, Any] = {"error": str(self)}
        if self.hint:
            payload["hint"] = self.hint
        if self.a_file is not None:
            payload["a_file"] = self.a_file
        near = list(self.suggested)
        if not near and self.missing is not None:
            from llmos.tools.near_paths import similar_paths

            near = similar_paths(self.missing)
        if near:
            payload["did_you_mean"] = near
            payload.setdefault("hint", "if one of these is what the request meant, make the call again with it")
        return payload


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returned: structured data on success, a readable message on failure."""

    ok: bool
    data: Any = None
    error: str | None = None
    error_payload: dict[str, Any] | None = field(default=None, compare=False)
    """A failure with more than its message (`ToolError.payload`: a hint, similar paths)."""

    def for_model(self, budget_chars: int, redact: Callable[[Any], Any] | None = None) -> str:
        """Compact JSON for the model, shrunk to `budget_chars` with the truncation said. `redact` (a value ->
        the value with secrets blanked) runs first: a secret is never cut in half by the budget and left
        partly readable."""
        data = (self.error_payload or {"error": self.error}) if not self.ok else compact_for_model(self.data)
        if redact is not None:
            data = redact(data)
        return render_within_budget(data, budget_chars)


@dataclass(frozen=True)
class ToolSpec:
    """One registered tool: its name, description, effect class, argument model and the function itself."""

    name: str
    description: str
    effect: Effect
    func: Callable[..., Any]
    args_model: type[pydantic.BaseModel]
    param_docs: dict[str, str] = field(default_factory=dict)
    preview: Callable[..., Impact] | None = None
    """For tools that change things: the same signature as the tool, returns what the call would touch."""
    pattern_args: frozenset[str] = frozenset()
    """The arguments the tool expands as globs (`*`, `?`, `[`): a caller that means one literal path there passes
    it through `glob.escape` (an automation's event file named `*.pdf` is that file, not every PDF)."""

    @property
    def parameters_schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments: an object with exact properties, no extras."""
        return _clean_schema(self.args_model.model_json_schema())

    def signature_line(self) -> str:
        """The compact form the prompt lists: `files.find(pattern, path=".", kind?) - Find files by name.`"""
        parts: list[str] = []
        for name, info in self.args_model.model_fields.items():
            if info.is_required():
                parts.append(name)
            elif info.default is None:
                parts.append(f"{name}?")
            else:
                parts.append(f"{name}={json.dumps(_plain(info.default))}")
        return f"{self.name}({', '.join(parts)}): {self.description}"

    def validate(self, raw_args: dict[str, Any]) -> dict[str, Any]:
        """Check raw arguments against the schema; raises ToolError with a readable reason."""
        try:
            model = self.args_model.model_validate(raw_args)
        except pydantic.ValidationError as exc:
            reasons = "; ".join(self._reason(err) for err in exc.errors())
            raise ToolError(f"invalid arguments for {self.name}: {reasons}") from None
        return {name: getattr(model, name) for name in self.args_model.model_fields}

    def validate_as_json(self, raw_args: dict[str, Any]) -> dict[str, Any]:
        """`validate`, with the values as plain JSON (enums by value, paths as text): what a step, the audit log
        and `--json` keep."""
        validated = self.validate(raw_args)
        return json.loads(json.dumps(validated, default=lambda value: getattr(value, "value", str(value))))

    def _reason(self, err: Any) -> str:
        where = ".".join(str(part) for part in err["loc"]) or "args"
        if err["type"] == "string_pattern_mismatch":
            # The regex itself means nothing to the model or the person; the parameter's own doc says the form.
            return f"{where}: cannot read {err['input']!r}: {self.param_docs.get(where, 'unexpected form')}"
        return f"{where}: {err['msg']}"

    def impact(self, args: dict[str, Any]) -> Impact:
        """What the call would do, before it runs (validated args). Read tools have an empty impact unless they
        declare a preview; a preview that fails raises ToolError, and the call is not made."""
        if self.preview is None:
            return Impact()
        try:
            return self.preview(**args)
        except ToolError:
            raise
        except (OSError, ValueError) as exc:
            raise ToolError(_describe_os_error(exc)) from None

    def call(self, raw_args: dict[str, Any]) -> ToolResult:
        """Validate and run; every failure becomes a result the model can read."""
        try:
            args = self.validate(raw_args)
            return ToolResult(ok=True, data=self.func(**args))
        except ToolError as exc:
            return ToolResult(ok=False, error=str(exc), error_payload=exc.payload())
        except (OSError, ValueError) as exc:
            return ToolResult(ok=False, error=_describe_os_error(exc))
        except Exception as exc:  # noqa: BLE001  a bug in one tool must not end the request; the model reads it
            return ToolResult(ok=False, error=f"{self.name} failed unexpectedly: {type(exc).__name__}: {exc}")


class Registry:
    """Tools by name, listed in the order they were registered (the order the model sees them)."""

    def __init__(self) -> None:
        self._tools: dict[str, ToolSpec] = {}

    def register(self, spec: ToolSpec) -> None:
        if spec.name in self._tools:
            raise ValueError(f"tool {spec.name!r} is registered twice")
        self._tools[spec.name] = spec

    def get(self, name: str) -> ToolSpec | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self, effects: Iterable[Effect] | None = None) -> list[ToolSpec]:
        """All tools, or those whose effect class is in `effects`."""
        if effects is None:
            return list(self._tools.values())
        allowed = set(effects)
        return [spec for spec in self._tools.values() if spec.effect in allowed]


def tool(
    name: str,
    effect: Effect,
    registry: Registry | None = None,
    *,
    preview: Callable[..., Impact] | None = None,
    patterns: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a typed function a tool: its spec is built now and kept with the function (`spec_of`), and registered
    in `registry` when one is given (the built-in tools are registered from one list, `llmos.tools.builtin`). Its
    docstring's first line is the description the model sees; an `Args:` section documents parameters. A tool that
    is not a read must give `preview`; `patterns` names the arguments it expands as globs."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        spec = build_spec(func, name, effect)
        unknown = set(patterns) - set(spec.args_model.model_fields)
        if unknown:
            raise ValueError(f"tool {name!r}: patterns names no parameter {sorted(unknown)}")
        spec = dataclasses.replace(spec, pattern_args=frozenset(patterns))
        if preview is not None:
            spec = dataclasses.replace(spec, preview=preview)
        setattr(func, _SPEC_ATTRIBUTE, spec)
        if registry is not None:
            registry.register(spec)
        return func

    return decorate


_SPEC_ATTRIBUTE = "__llmos_tool_spec__"


def spec_of(func: Callable[..., Any]) -> ToolSpec:
    """The spec `@tool` built for `func`; a ValueError for a function that is no tool."""
    spec = getattr(func, _SPEC_ATTRIBUTE, None)
    if not isinstance(spec, ToolSpec):
        raise ValueError(f"{func!r} is not a tool (it has no @tool)")
    return spec


def build_spec(func: Callable[..., Any], name: str, effect: Effect) -> ToolSpec:
    """Build a ToolSpec from a function's signature, type hints and docstring."""
    description, param_docs = _parse_docstring(inspect.getdoc(func) or "")
    if not description:
        raise ValueError(f"tool {name!r} needs a docstring: its first line is what the model reads")
    hints = typing.get_type_hints(func, include_extras=True)
    fields: dict[str, Any] = {}
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ValueError(f"tool {name!r}: *args/**kwargs cannot be described to the model")
        if param.name not in hints:
            raise ValueError(f"tool {name!r}: parameter {param.name!r} has no type hint")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (
            hints[param.name],
            pydantic.Field(default=default, description=param_docs.get(param.name)),
        )
    model_name = "".join(part.title() for part in re.split(r"[._]", name)) + "Args"
    args_model = pydantic.create_model(model_name, __config__=pydantic.ConfigDict(extra="forbid"), **fields)
    return ToolSpec(
        name=name, description=description, effect=effect, func=func, args_model=args_model, param_docs=param_docs
    )


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """First paragraph is the description; `Args:` lines `name: text` document parameters."""
    lines = doc.splitlines()
    description_lines: list[str] = []
    for line in lines:
        if not line.strip():
            break
        description_lines.append(line.strip())
    param_docs: dict[str, str] = {}
    in_args = False
    current: str | None = None
    param_indent: int | None = None
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        if not in_args or not stripped:
            current = None if in_args and not stripped else current
            continue
        indent = len(line) - len(line.lstrip())
        match = re.match(r"^(\w+)\s*(?:\([^)]*\))?:\s*(.*)$", stripped)
        if match and (param_indent is None or indent <= param_indent):
            param_indent = indent
            current = match.group(1)
            param_docs[current] = match.group(2)
        elif current:
            param_docs[current] += " " + stripped
    return " ".join(description_lines), param_docs


_SCHEMA_ANNOTATIONS = frozenset({"title", "$defs", "default", "description"})


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Reduce pydantic's schema to what a grammar needs: no titles, `Optional[X]` as plain X (the model omits
    the argument instead of writing null), `$defs` inlined, no extra properties."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return walk(defs[node["$ref"].split("/")[-1]])
        if "anyOf" in node:
            branches = [b for b in node["anyOf"] if b.get("type") != "null"]
            if len(branches) == 1:
                merged = {k: v for k, v in node.items() if k != "anyOf"}
                merged.update(branches[0])
                return walk(merged)
        cleaned_node: dict[str, Any] = {}
        for key, value in node.items():
            if key in _SCHEMA_ANNOTATIONS:
                continue
            if key == "properties":
                # Keys here are parameter names, not schema keywords: a parameter called `title` stays.
                cleaned_node[key] = {name: walk(sub) for name, sub in value.items()}
            else:
                cleaned_node[key] = walk(value)
        return cleaned_node

    cleaned = walk(schema)
    cleaned["additionalProperties"] = False
    cleaned.setdefault("properties", {})
    return cleaned


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _describe_os_error(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    return str(exc)
