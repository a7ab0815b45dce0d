"""The examples library: `library/*.toml`, each `[[example]]` a request and the calls that carry it out.

The library is written independently of the eval suite (`tests/unit/test_examples_library.py` proves no eval
request is in it or near it) and every call passes its tool's schema (the same test), so an example never teaches
a call llmos would refuse to run.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pydantic

from llmos.learning import PlannedCall, example_turns
from llmos.models.prompt import Turn


class _Call(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    tool: str
    args: dict[str, Any]


class _Example(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    request: str = pydantic.Field(min_length=1)
    calls: list[_Call] = pydantic.Field(min_length=1)
    piped: str | None = None
    note: str | None = None


class _LibraryFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    example: list[_Example]


@dataclass(frozen=True)
class PlanExample:
    """One verified request and its plan. `piped` says what data was piped in (stdin examples only)."""

    request: str
    calls: tuple[PlannedCall, ...]
    source: str
    """The library file it comes from, e.g. "files.toml"."""
    piped: str | None = None

    @property
    def tool_names(self) -> list[str]:
        return [call.tool for call in self.calls]

    def example_turns(self) -> list[Turn]:
        """The example as the prompt shows it: the request, then its first call."""
        return example_turns(self.request, self.calls)


class LibraryError(ValueError):
    """A library file that does not parse or does not have the expected form (a packaging bug)."""


@functools.cache
def load_library() -> tuple[PlanExample, ...]:
    """Every example of the bundled library, in file order (files by name)."""
    folder = resources.files(__package__).joinpath("library")
    examples: list[PlanExample] = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".toml"):
            examples.extend(parse_library_file(entry.name, entry.read_text(encoding="utf-8")))
    return tuple(examples)


def parse_library_file(name: str, text: str) -> list[PlanExample]:
    """The examples of one library file's `text`; LibraryError names the file and what is wrong."""
    try:
        parsed = _LibraryFile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, pydantic.ValidationError) as exc:
        raise LibraryError(f"examples library {name}: {exc}") from None
    return [
        PlanExample(
            request=example.request.strip(),
            calls=tuple(PlannedCall(call.tool, call.args) for call in example.calls),
            source=name,
            piped=example.piped,
        )
        for example in parsed.example
    ]
