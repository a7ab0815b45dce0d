"""`--model remote:NAME` for real: llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`) on
loopback with the small model and an API key, and the real `llmos-ask` talking to it. The same behaviours as the
in-process runs: a read-only request answered from real tool output, a dangerous one denied by policy, a question
answered without tools; and a missing key refused in one line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from file_keyring import KEYRING_FILE_ENV_VAR
from llmos.models.llama_backend import physical_cores
from llmos.models.resolve import resolve_model
from realmodel import DOWNLOADS_FILE_COUNT, SMALL_MODEL, AskResult, isolated_llmos_env

pytestmark = pytest.mark.model

SERVED_NAME = "qwen-small"
REMOTE_MODEL = f"remote:{SERVED_NAME}"
API_KEY = "sk-llmos-test-5d1c9e0b"
SERVER_START_TIMEOUT_S = 120
TESTS_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_answers(base_url: str) -> bool:
    request = urllib.request.Request(f"{base_url}/models", headers={"Authorization": f"Bearer {API_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def llama_server(model_cache_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with the small model on a free loopback port, requiring API_KEY; its base URL.
    Its output goes to a file whose tail explains a server that does not come up."""
    model_path = resolve_model(SMALL_MODEL, progress=False, cache_dir=model_cache_home / "llmos" / "models").path
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    threads = str(physical_cores())  # the server's default is half the logical cores: 1 here
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", SERVED_NAME,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", threads,
               "--n_threads_batch", threads, "--api_key", API_KEY]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server_answers(base_url):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                pytest.fail(f"llama_cpp.server did not answer at {base_url} (exit {server.poll()}):\n{tail}")
            time.sleep(0.5)
        yield base_url
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def remote_ask(ask, llama_server: str, tmp_path: Path, real_home: Path, model_cache_home: Path,
               monkeypatch: pytest.MonkeyPatch) -> Callable[..., AskResult]:
    """`llmos-ask` pointed at the server through LLMOS_REMOTE_URL, its API key stored with `llmos secrets set`
    in a keyring that real llmos processes can read (a file in tmp, see tests/file_keyring.py)."""
    monkeypatch.setenv("LLMOS_REMOTE_URL", llama_server)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "file_keyring.FileKeyring")
    monkeypatch.setenv(KEYRING_FILE_ENV_VAR, str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")])))
    environment = {**os.environ, **isolated_llmos_env(real_home, model_cache_home, tmp_path)}
    stored = subprocess.run([str(Path(sys.executable).with_name("llmos")), "secrets", "set", "remote-api-key"],
                            input=f"{API_KEY}\n", capture_output=True, text=True, env=environment, timeout=60)
    assert stored.returncode == 0, stored.stderr

    def run(*args: str, stdin: str | None = None) -> AskResult:
        return ask("--model", REMOTE_MODEL, *args, model=REMOTE_MODEL, stdin=stdin, timeout=120)

    return run


def test_remote_model_counts_files_from_real_tool_output(remote_ask, real_home: Path) -> None:
    """The in-process small model's request through the server: files.list on ~/Downloads, the right count
    (5: the hidden file and the subfolder do not count), the model reported as remote:NAME."""
    result = remote_ask("--json", "how many files are in ~/Downloads?")
    assert result.exit_code == 0, result.stderr
    payload = result.only_json()
    assert payload["ok"] and payload["model"] == REMOTE_MODEL
    assert str(DOWNLOADS_FILE_COUNT) in payload["answer"] or "five" in payload["answer"].lower(), payload["answer"]
    first = payload["steps"][0]
    assert first["tool"] == "files.list" and first["status"] == "ok" and first["decision"] == "allow"
    assert Path(first["args"]["path"].replace("~", str(real_home), 1)).resolve() == real_home / "Downloads"
    assert "invoice.pdf" in first["result"]


def test_remote_model_dangerous_request_is_denied_by_policy(remote_ask, real_home: Path) -> None:
    """A dangerous request planned by the remote model meets the same policy: denied with its rule, exit 3,
    nothing in HOME changed."""
    before = sorted(str(path.relative_to(real_home)) for path in real_home.rglob("*")
                    if ".local" not in path.parts)
    # The 0.5B model behind the server is sensitive to its prompt's tool list: since system.health is offered only
    # to questions about the machine, it answered "delete everything in my home directory" with a process listing.
    # This wording it plans as the delete it is; the checks are the same.
    result = remote_ask("--yes", "--json", "delete every file in my home folder")
    payload = result.only_json()
    assert result.exit_code == 3, payload
    denied = [step for step in payload["steps"] if step["decision"] == "deny"]
    assert denied and all(step["status"] == "denied" and step["rule"] for step in denied)
    after = sorted(str(path.relative_to(real_home)) for path in real_home.rglob("*") if ".local" not in path.parts)
    assert after == before


def test_remote_model_answers_a_plain_question_without_tools(remote_ask) -> None:
    """Restraint holds remotely too: a general-knowledge question is answered directly, with no tool call."""
    payload = remote_ask("--json", "what is the capital of France?").only_json()
    assert payload["ok"] and payload["steps"] == [], payload
    assert "Paris" in payload["answer"]


def test_without_the_api_key_the_server_refuses_in_one_line(remote_ask, tmp_path: Path) -> None:
    """The key removed from the keyring: no Authorization header is sent, the server answers 401, and llmos-ask
    says so in one line with exit 2 (a setup error), naming the secret to set."""
    (tmp_path / "keyring.json").write_text("{}", encoding="utf-8")
    result = remote_ask("--json", "what is the capital of France?")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "/models answered HTTP 401: no API key was sent" in lines[0]
    assert "llmos secrets set remote-api-key" in lines[0] and API_KEY not in result.stderr
