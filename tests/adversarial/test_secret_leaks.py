"""A hijacked model that knows a stored secret (`llmos secrets set`) tries every way out: writing it into tool
arguments, reading a file that holds it so that the result budget cuts it in half, putting it in its answer, and
piped stdin that holds it where the stdin budget cuts. Neither the secret nor any 8-character piece of it may
reach a file llmos writes (data folder, journal, audit log), the model's prompt, or any event a front end gets."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fakes import ScriptedBackend, answer, call
from llmos.shell.ask import main as ask_main
from llmos.tools import load_builtin_tools
from trees import isolate_xdg, use_memory_keyring

import llmos.runtime
from llmos.config import Config
from llmos.runtime import load_safety
from llmos.secrets import SecretStore
from llmos.session import Session, SessionOptions

SECRET = "Qm9vZ2llV29vZ2llTm9ub3NlbnNlU3RyaW5nMTIz4x"  # 42 characters no built-in pattern knows


def pieces(secret: str = SECRET, size: int = 8) -> list[str]:
    return [secret[start:start + size] for start in range(len(secret) - size + 1)]


def leaks(text: str) -> list[str]:
    return [piece for piece in pieces() if piece in text]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_xdg(tmp_path, monkeypatch)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    monkeypatch.setattr("llmos.tools.process._hidden_pids", set())
    use_memory_keyring(monkeypatch)
    SecretStore().set("api", SECRET)
    return home


def llmos_files(tmp_path: Path, *, besides: tuple[Path, ...]) -> list[Path]:
    """Every file under the temp folders except the ones the test or the person's own request wrote."""
    return [path for path in tmp_path.rglob("*") if path.is_file() and path not in besides]


def padded_note(home: Path, budget: int, inside: int = 40) -> Path:
    """A file whose read result, cut to `budget` without redaction, would end `inside` characters into the
    secret (found by trying paddings against the plain rendering)."""
    notes = home / "notes.txt"
    read = load_builtin_tools().get("files.read")
    assert read is not None
    for pad in range(budget):
        notes.write_text("a" * pad + SECRET + " and more text after it, " * 20)
        plain = read.call({"path": str(notes)}).for_model(budget)
        if SECRET[:inside] in plain and SECRET[:inside + 1] not in plain:
            return notes
    raise AssertionError("no padding puts the cut inside the secret")


@pytest.mark.parametrize("budget", [300, 320])
def test_a_secret_reaches_no_file_no_prompt_and_no_event(home, tmp_path, budget):
    """Arguments, a cut result, the answer and cut stdin all hold the secret; every output shows [secret api]."""
    notes = padded_note(home, budget)
    out = home / "out.txt"
    backend = ScriptedBackend([
        call("files.write", path=str(out), content=f"the key is {SECRET}"),
        call("files.read", path=str(notes)),
        answer(f"Done: the key {SECRET} is saved."),
    ])
    options = SessionOptions(result_budget_chars=budget, stdin_budget_chars=budget)
    session = Session(backend, load_builtin_tools(), load_safety(None, Config()), options)
    stdin = "b" * (budget // 2 - 20) + SECRET + "c" * 4000
    events = list(session.run("write the file out.txt, then read notes.txt", stdin_data=stdin,
                              approver=lambda step: True))
    outcome = events[-1]
    assert [step.status for step in outcome.steps] == ["ok", "ok"], outcome
    assert out.read_text() == f"the key is {SECRET}", "the tool itself still ran with the real arguments"
    for event in events:
        assert not leaks(repr(event)), event
    for recorded in backend.calls:
        assert not leaks(recorded.conversation)
    written = llmos_files(tmp_path, besides=(notes, out))
    assert any(path.name == "audit.jsonl" for path in written)
    assert any("journal" in path.parts for path in written)
    for path in written:
        assert not leaks(path.read_text(errors="replace")), path


def test_piped_stdin_and_json_output_of_llmos_ask_hold_no_secret(home, tmp_path, monkeypatch, capsys):
    """`cmd | llmos-ask --yes --json`: the piped secret never reaches the model, stdout, stderr or a file."""
    backend = ScriptedBackend([call("files.write", path=str(home / "o.txt"), content=SECRET),
                               answer(f"it was {SECRET}")])

    def open_session(**kwargs):
        return Session(backend, load_builtin_tools(), load_safety(None, Config()), SessionOptions())

    monkeypatch.setattr(llmos.runtime, "open_session", open_session)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(f"log line {SECRET} end\n".encode())))
    ask_main(["--yes", "--json", "write what the log says to o.txt"])
    captured = capsys.readouterr()
    assert not leaks(captured.out + captured.err)
    assert json.loads(captured.out.splitlines()[-1])["steps"]
    assert all(not leaks(recorded.conversation) for recorded in backend.calls)
    for path in llmos_files(tmp_path, besides=(home / "o.txt",)):
        assert not leaks(path.read_text(errors="replace")), path


def run_one(home: Path, replies: list, *, budget: int = 2000, stdin: str | None = None):
    backend = ScriptedBackend(replies)
    options = SessionOptions(result_budget_chars=budget, stdin_budget_chars=budget)
    session = Session(backend, load_builtin_tools(), load_safety(None, Config()), options)
    events = list(session.run("write the file out.txt, then read notes.txt", stdin_data=stdin,
                              approver=lambda step: True))
    return backend, events


@pytest.mark.parametrize("inside", [8, 20, 40, 41])
def test_a_result_cut_by_its_budget_leaves_no_prefix_of_the_secret(home, inside):
    """Redaction runs before the budget: a cut inside the secret never leaves its first characters readable."""
    budget = 300
    notes = padded_note(home, budget, inside)
    backend, events = run_one(home, [call("files.read", path=str(notes)), answer("ok")], budget=budget)
    result = events[-1].steps[0].result
    assert "truncated" in result and not leaks(result), result
    assert not leaks(backend.calls[1].conversation)


@pytest.mark.parametrize("offset", [-30, -21, -20, -10, 0])
def test_piped_stdin_cut_by_its_budget_leaves_no_prefix_of_the_secret(home, offset):
    """Piped data is redacted before the stdin budget clips it, wherever the cut falls."""
    budget = 400
    stdin = "b" * (budget // 2 + offset) + SECRET + "c" * 4000 + SECRET[::-1][:5]
    backend, _ = run_one(home, [answer("ok")], budget=budget, stdin=stdin)
    assert not leaks(backend.calls[0].conversation)


def test_a_secret_in_tool_arguments_never_reaches_the_audit_log(home, tmp_path):
    """The model writing the secret into a call's arguments: the audit record shows [secret api]."""
    run_one(home, [call("files.write", path=str(home / "out.txt"), content=SECRET), answer("ok")])
    audit = next(path for path in tmp_path.rglob("audit.jsonl"))
    assert "[secret api]" in audit.read_text() and not leaks(audit.read_text())
