"""Front ends that stay open load a lazily loaded model in the background; a one-shot never does."""

from __future__ import annotations

import threading

from fakes import ScriptedBackend
from llmos.models.backend import LazyBackend

from llmos.connect import preload_model


class _FakeSession:
    def __init__(self, backend: object) -> None:
        self.backend = backend


def test_preload_loads_a_lazy_model_in_a_background_thread() -> None:
    loaded = threading.Event()

    def load() -> ScriptedBackend:
        loaded.set()
        return ScriptedBackend([])

    backend = LazyBackend("scripted", load)
    thread = preload_model(_FakeSession(backend))  # type: ignore[arg-type]  # a stand-in with only what preload reads
    assert thread is not None
    thread.join(timeout=10)
    assert loaded.is_set() and backend.loaded


def test_preload_does_nothing_for_a_loaded_or_eager_backend() -> None:
    assert preload_model(_FakeSession(ScriptedBackend([]))) is None  # type: ignore[arg-type]  # a stand-in with only what preload reads
    backend = LazyBackend("scripted", lambda: ScriptedBackend([]))
    backend.inner  # noqa: B018 - the property loads the backend
    assert preload_model(_FakeSession(backend)) is None  # type: ignore[arg-type]  # a stand-in with only what preload reads


def test_a_failed_preload_is_left_for_the_request_to_report() -> None:
    from llmos.errors import ModelError

    def load() -> ScriptedBackend:
        raise ModelError("corrupt")

    backend = LazyBackend("scripted", load)
    thread = preload_model(_FakeSession(backend))  # type: ignore[arg-type]  # a stand-in with only what preload reads
    assert thread is not None
    thread.join(timeout=10)
    assert not backend.loaded
