"""How llmos asks llama.cpp to lay out the weights: repacked for processes that stay, plain and mapped for one-shots."""

from __future__ import annotations

from pathlib import Path

import llama_cpp.llama_cpp as bindings
import pytest
from llmos.models import llama_backend


def test_repacking_off_sets_the_model_parameter_only_while_loading() -> None:
    """While a one-shot's model loads, llama-cpp-python's default model parameters have repacking off (the
    binding's `Llama` takes no such argument); afterwards the defaults are llama.cpp's own again."""
    if not any(field[0] == "use_extra_bufts" for field in bindings.llama_model_params._fields_):
        pytest.skip("this llama-cpp-python has no use_extra_bufts model parameter")
    assert bindings.llama_model_default_params().use_extra_bufts
    with llama_backend._weight_repacking(enabled=False):
        assert not bindings.llama_model_default_params().use_extra_bufts
    assert bindings.llama_model_default_params().use_extra_bufts
    with llama_backend._weight_repacking(enabled=True):
        assert bindings.llama_model_default_params().use_extra_bufts


def test_defaults_are_restored_when_the_load_fails() -> None:
    """A load that raises (a corrupt file) leaves the defaults as llama.cpp has them."""
    original = bindings.llama_model_default_params
    with pytest.raises(ValueError), llama_backend._weight_repacking(enabled=False):
        raise ValueError("corrupt GGUF")
    assert bindings.llama_model_default_params is original


@pytest.mark.parametrize(("preload", "repacked"), [(False, False), (True, True)])
def test_one_shots_map_the_weights_and_front_ends_that_stay_repack_them(
    monkeypatch: pytest.MonkeyPatch, temp_home: Path, preload: bool, repacked: bool
) -> None:
    """`llmos-ask` (no preload: one request, then exit) loads the plain mapped layout; the TUI, overlay and REPL
    (preload: they stay open) load the repacked one."""
    import llmos.runtime
    from llmos.connect import open_assistant

    loads: list[bool] = []
    # Opening a session hides this process from process.list; keep that out of the other tests.
    monkeypatch.setattr(llmos.runtime, "hide_from_listings", lambda _pid: None)
    monkeypatch.setattr(llmos.runtime, "choose_model", lambda *_args, **_kwargs: object())
    monkeypatch.setattr(llmos.runtime, "model_display_name", lambda _chosen: "fake")
    monkeypatch.setattr(llmos.runtime, "load_chosen_backend",
                        lambda _chosen, _config, *, stays_open: loads.append(stays_open) or object())
    assistant = open_assistant(use_daemon=False, preload=preload)
    assistant.session.backend.inner  # noqa: B018  loads (the preload thread may have already)
    assert loads == [repacked]
