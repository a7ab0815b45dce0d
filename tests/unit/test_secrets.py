"""Secrets in the keyring: the CLI stores, lists, prints and deletes them with the values only in the keyring;
no usable keyring means a refusal, never a plain file; a stored secret is blanked out of tool results before
the model, the audit log, the journal or anything else llmos writes sees it."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import keyring
import pytest
from fakes import ScriptedBackend, answer, call
from keyring.backends import fail
from llmos.tools import load_builtin_tools
from trees import MemoryKeyring, isolate_xdg, use_memory_keyring

from llmos.cli import main
from llmos.config import Config
from llmos.runtime import load_safety
from llmos.secrets import SERVICE, SecretStore, make_redactor
from llmos.session import Session

TOKEN = "hf_Q8zT1secretVALUE0042"


@pytest.fixture
def memory_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    isolate_xdg(tmp_path, monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return use_memory_keyring(monkeypatch)


def llmos(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_set_list_get_delete_keep_the_value_in_the_keyring_only(
    memory_keyring: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A piped value is stored in the keyring; list shows the name, get prints the value; llmos's own files hold
    the name only (0600); delete removes both."""
    assert llmos(monkeypatch, "secrets", "set", "hf-token", stdin=TOKEN + "\n") == 0
    assert memory_keyring.store[(SERVICE, "hf-token")] == TOKEN
    capsys.readouterr()
    assert llmos(monkeypatch, "secrets", "list") == 0
    assert capsys.readouterr().out.split() == ["hf-token"]
    assert llmos(monkeypatch, "secrets", "get", "hf-token") == 0
    assert capsys.readouterr().out.strip() == TOKEN
    written = files_under(tmp_path)
    assert written and all(TOKEN not in path.read_text(errors="replace") for path in written)
    index = SecretStore().index_path
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    assert llmos(monkeypatch, "secrets", "delete", "hf-token") == 0
    assert (SERVICE, "hf-token") not in memory_keyring.store
    capsys.readouterr()
    llmos(monkeypatch, "secrets", "list")
    assert capsys.readouterr().out == ""


def test_without_a_usable_keyring_set_refuses_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """keyring's fail backend: a one-line error, exit 2, and no file holds the value."""
    isolate_xdg(tmp_path, monkeypatch)
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(fail.Keyring())
    assert llmos(monkeypatch, "secrets", "set", "api-key", stdin=TOKEN) == 2
    error = capsys.readouterr().err
    assert "no usable keyring backend" in error and error.count("\n") == 1
    assert all(TOKEN not in path.read_text(errors="replace") for path in files_under(tmp_path))


@pytest.mark.parametrize("argv, message", [
    (("secrets", "get", "missing"), "no secret named 'missing'"),
    (("secrets", "delete", "missing"), "no secret named 'missing'"),
    (("secrets", "set", "bad name!"), "invalid secret name"),
])
def test_bad_names_are_one_line_errors(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                                       message: str) -> None:
    """An unknown or malformed name: exit 2 with the reason, no traceback."""
    assert llmos(monkeypatch, *argv, stdin="value123") == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_redactor_blanks_raw_and_json_escaped_values(memory_keyring: MemoryKeyring) -> None:
    """Each stored value becomes [secret NAME], also where JSON escaped it; short values are left alone."""
    store = SecretStore()
    store.set("quoted", 'pa"ss\\word99')
    store.set("pin", "1234")
    redact = make_redactor(store)
    text = json.dumps({"content": 'x pa"ss\\word99 y 1234'})
    assert redact(text) == '{"content": "x [secret quoted] y 1234"}'
    store.set("later", "added-after-the-first-call")
    assert redact("added-after-the-first-call") == "[secret later]"


def test_a_secret_read_from_a_file_reaches_no_prompt_and_no_file_llmos_writes(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    """A request reads a file holding a stored token: the model's next prompt, the step's result, the answer,
    the audit log and every file under llmos's data, config and cache folders show [secret NAME], never it."""
    SecretStore().set("hf-token", TOKEN)
    notes = tmp_path / "home" / "notes.txt"
    notes.write_text(f"huggingface token: {TOKEN}\n")
    backend = ScriptedBackend([call("files.read", path=str(notes)), answer("Your notes hold a token.")])
    session = Session(backend, load_builtin_tools(), load_safety(None, Config()))
    outcome = list(session.run("what is in ~/notes.txt?"))[-1]
    assert outcome.ok, outcome
    assert "[secret hf-token]" in outcome.steps[0].result
    assert all(TOKEN not in recorded.conversation for recorded in backend.calls)
    assert "[secret hf-token]" in backend.calls[1].conversation
    written = [path for path in files_under(tmp_path) if path != notes]
    assert any(path.name == "audit.jsonl" for path in written)
    assert all(TOKEN not in path.read_text(errors="replace") for path in written)
