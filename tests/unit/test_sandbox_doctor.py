"""`llmos doctor`: each sandbox layer as working or not and why, llama.cpp and GPU offload, the default model, the
keyring backend, the paths; exit 1 when sandboxed commands would be refused. Tested through its own parser."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from llmos.policies.sandbox import LayerStatus

from llmos.commands import doctor


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))  # no daemon there
    for variable in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    monkeypatch.delenv("LLMOS_MODEL", raising=False)
    return tmp_path


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llmos")
    commands = parser.add_subparsers(dest="command")
    doctor.register(commands)
    return parser.parse_args(argv)


FAKE_LAYERS = [
    LayerStatus("bubblewrap", True, "bubblewrap 0.8.0 at /usr/bin/bwrap"),
    LayerStatus("landlock", False, "the kernel has no Landlock"),
    LayerStatus("seccomp", False, "not implemented: no system-call filter is installed"),
]


def test_doctor_registers_with_a_handler_and_json_flag() -> None:
    options = parse(["doctor", "--json"])
    assert options.handler is doctor.run and options.json is True
    assert parse(["doctor"]).json is False


def test_text_report_lists_every_layer_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("llmos.policies.sandbox.layer_status", lambda: FAKE_LAYERS)
    options = parse(["doctor"])
    assert options.handler(options) == 0
    out = capsys.readouterr().out
    assert "[ok] bubblewrap" in out and "[--] landlock" in out and "the kernel has no Landlock" in out
    assert "[--] seccomp" in out and "not implemented" in out
    for section in ("sandbox", "model", "keyring", "automations", "config", "folders", "paths"):
        assert section in out.splitlines()
    assert "llama-cpp-python" in out and "GPU offload" in out and "default model" in out


def test_json_report_has_every_section(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("llmos.policies.sandbox.layer_status", lambda: FAKE_LAYERS)
    options = parse(["doctor", "--json"])
    assert options.handler(options) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"sandbox_ok", "sandbox", "llama_cpp", "model", "remote", "keyring", "automations", "config",
                           "folders", "paths"}
    assert [layer["name"] for layer in report["sandbox"]] == ["bubblewrap", "landlock", "seccomp"]
    assert report["model"]["cached"] is False  # empty cache in tmp
    assert set(report["paths"]) == {"config", "data", "cache", "models"}
    assert "gpu_offload" in report["llama_cpp"] and report["llama_cpp"]["backends"]


def test_exit_1_when_the_sandbox_cannot_run_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = [LayerStatus("bubblewrap", False, "bubblewrap (bwrap) is not installed: apt install bubblewrap")]
    monkeypatch.setattr("llmos.policies.sandbox.layer_status", lambda: broken)
    options = parse(["doctor"])
    assert options.handler(options) == 1
    out = capsys.readouterr().out
    assert "fail closed" in out and "apt install bubblewrap" in out


def test_real_layer_status_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """Without fakes: every layer line is printed (whatever this machine has)."""
    options = parse(["doctor"])
    options.handler(options)
    out = capsys.readouterr().out
    for name in ("bubblewrap", "landlock", "rlimits", "seccomp"):
        assert name in out


@pytest.mark.parametrize(
    ("module", "name", "usable"),
    [
        ("keyring.backends.fail", "Keyring", False),
        ("keyring.backends.null", "Keyring", False),
        ("keyrings.alt.file", "PlaintextKeyring", False),
        ("keyring.backends.SecretService", "Keyring", True),
        ("keyring.backends.macOS", "Keyring", True),
    ],
)
def test_keyring_backends_that_cannot_keep_a_secret_are_not_usable(module: str, name: str, usable: bool) -> None:
    backend_type = type(name, (), {"priority": 5, "__module__": module})
    report = doctor.describe_keyring(backend_type())
    assert report["usable"] is usable
    assert report["backend"] == f"{module}.{name}"


def test_chained_keyring_is_usable_when_one_member_is() -> None:
    fail = type("Keyring", (), {"priority": 0, "__module__": "keyring.backends.fail"})
    good = type("Keyring", (), {"priority": 5, "__module__": "keyring.backends.SecretService"})
    chain = type("ChainerBackend", (), {"__module__": "keyring.backends.chainer", "backends": [fail(), good()]})
    assert doctor.describe_keyring(chain())["usable"] is True
    chain_bad = type("ChainerBackend", (), {"__module__": "keyring.backends.chainer", "backends": [fail()]})
    assert doctor.describe_keyring(chain_bad())["usable"] is False


def test_backends_are_read_from_llama_system_info() -> None:
    info = "CPU : SSE3 = 1 | AVX2 = 1 | CUDA : ARCHS = 890 | USE_GRAPHS = 1 | Metal : EMBED_LIBRARY = 1 | "
    assert doctor.backends_from_system_info(info) == ["CPU", "CUDA", "Metal"]


def test_automations_section_says_when_stored_rules_have_no_daemon_to_run_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmos.automations.rules import Action, Rule, Trigger
    from llmos.automations.store import AutomationStore

    monkeypatch.setattr("llmos.policies.sandbox.layer_status", lambda: FAKE_LAYERS)
    AutomationStore().add(Rule(trigger=Trigger(path="~/Downloads", glob="*.pdf"),
                               action=Action(tool="files.move", args={"source": "{path}", "destination": "~/PDFs/"})))
    options = parse(["doctor"])
    options.handler(options)
    line = next(line for line in capsys.readouterr().out.splitlines() if "rule(s)" in line)
    assert line.startswith("  [--] ") and "1 rule(s), 1 active, 0 call(s) waiting" in line
    assert "the daemon is not running" in line


@pytest.mark.parametrize(
    ("config_text", "why"),
    [("model = [broken\n", "not valid TOML"), ("max_steps = 'many'\n", "max_steps")],
    ids=["not-toml", "wrong-type"],
)
def test_a_broken_config_is_its_own_line_and_exit_2(
    config_text: str, why: str, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A corrupt config.toml: the config line says it is broken and why, the lines that depend on it (the model
    llmos would use, the remote server) say they could not be checked, and doctor exits 2."""
    monkeypatch.setattr("llmos.policies.sandbox.layer_status", lambda: FAKE_LAYERS)
    config_file = isolated_dirs / "xdg_config_home" / "llmos" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text(config_text)
    options = parse(["doctor"])
    assert options.handler(options) == 2
    lines = capsys.readouterr().out.splitlines()
    config_line = lines[lines.index("config") + 1]
    assert config_line.startswith("  [--] broken: ") and str(config_file) in config_line and why in config_line
    for name in ("default model", "remote server"):
        line = next(line for line in lines if f"] {name}" in line)
        assert line.startswith("  [--] ") and "not checked: the config is broken" in line
    assert lines[-1] == "broken: config (exit 2)"


def test_a_good_config_passes_and_what_is_only_missing_is_not_broken(
    isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid config, usable folders, a working sandbox: exit 0 even with no model cached and no GPU."""
    monkeypatch.setattr("llmos.policies.sandbox.layer_status", lambda: FAKE_LAYERS)
    config_file = isolated_dirs / "xdg_config_home" / "llmos" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text("max_steps = 4\n")
    options = parse(["doctor", "--json"])
    assert options.handler(options) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"] == {"ok": True, "path": str(config_file), "detail": f"read {config_file}"}
    assert report["model"]["cached"] is False and all(folder["ok"] for folder in report["folders"])
    assert doctor.broken_parts(report) == ([], [])
