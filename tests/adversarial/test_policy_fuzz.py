"""Fuzzing the policy engine: a denied command stays denied however it is re-spelled (flags, targets, wrapper
chains, shell quoting), and no call makes `decide` raise; an error inside it is a deny."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from llmos.policies.engine import PolicyCall, PolicyEngine
from llmos.policies.impact import Impact, PathEffect, ProcessEffect
from llmos.policies.profile import load_profile

HOME = Path("/home/fuzz-user")
ENGINE = PolicyEngine(load_profile("default"), home=HOME, uid=4242,
                      protected_paths=[HOME / ".config/llmos", HOME / ".local/share/llmos"])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RM_FLAGS = st.sampled_from([["-rf"], ["-fr"], ["-r", "-f"], ["-f", "-r"], ["-R", "-f"], ["-Rf"], ["-rfv"],
                            ["--recursive", "--force"], ["-r", "--force"], ["--force", "-R"], ["-r"], ["-R"],
                            ["--recursive"], ["-rf", "-i"], ["-dRf"]])
HOME_TARGETS = st.sampled_from(["~", "~/", "~/.", "~/Documents/..", "~//", str(HOME), str(HOME) + "/",
                                "/home/fuzz-user/Downloads/..", "~/.ssh", "~/Documents", "/", "/etc", "~/*",
                                "/*", "~/.config"])
WRAPPERS = st.lists(st.sampled_from([["env"], ["env", "-i"], ["env", "A=1"], ["nice", "-n", "5"], ["nice"],
                                     ["timeout", "5"], ["timeout", "-s", "KILL", "1m"], ["nohup"], ["xargs"],
                                     ["xargs", "-0"], ["command"], ["exec"], ["stdbuf", "-oL"], ["time"],
                                     ["busybox"], ["setsid"], ["sudo"], ["sudo", "-u", "root"], ["doas"]]),
                    max_size=4)
SHELL_WRAP = st.sampled_from([None, ["sh", "-c"], ["bash", "-c"], ["bash", "-lc"], ["dash", "-c"], ["zsh", "-c"],
                              ["sh", "-c", "ls; {}"], ["sh", "-c", "true && {}"], ["sh", "-c", "echo $({})"],
                              ["bash", "-c", "{{ {}; }}"], ["bash", "-c", "({})"]])


def decide_argv(argv: list[str]) -> str:
    return ENGINE.decide(PolicyCall("shell.run", "exec", {}, Impact(argv=tuple(argv)), cwd=HOME)).verdict


def compose(flags: list[str], target: str, wrappers: list[list[str]], shell: list[str] | None) -> list[str]:
    argv = [word for wrapper in wrappers for word in wrapper] + ["rm", *flags, target]
    if shell is None:
        return argv
    line = shlex.join(argv)
    if len(shell) == 3:
        return [shell[0], shell[1], shell[2].format(line)]
    return [*shell, line]


@FUZZ
@given(RM_FLAGS, HOME_TARGETS, WRAPPERS, SHELL_WRAP)
def test_recursive_rm_of_a_protected_path_stays_denied_however_it_is_spelled(
        flags: list[str], target: str, wrappers: list[list[str]], shell: list[str] | None) -> None:
    """rm -r of home, a standard folder, ~/.ssh or / is denied in every flag spelling, target spelling,
    wrapper chain and shell wrapping."""
    argv = compose(flags, target, wrappers, shell)
    assert decide_argv(argv) == "deny", argv


@FUZZ
@given(st.sampled_from(["KILL", "9", "-9", "SIGKILL", "TERM"]), WRAPPERS, SHELL_WRAP)
def test_killing_init_stays_denied_however_it_is_spelled(signal: str, wrappers: list[list[str]],
                                                          shell: list[str] | None) -> None:
    """kill of pid 1 is denied with any signal spelling, wrapper chain and shell wrapping."""
    spelled = {"KILL": ["-s", "KILL"], "9": ["-9"], "-9": ["-n", "9"], "SIGKILL": ["-SIGKILL"], "TERM": []}[signal]
    argv = [word for wrapper in wrappers for word in wrapper] + ["kill", *spelled, "1"]
    if shell is not None:
        line = shlex.join(argv)
        argv = [shell[0], shell[1], shell[2].format(line)] if len(shell) == 3 else [*shell, line]
    assert decide_argv(argv) == "deny", argv


path_effects = st.builds(PathEffect, st.one_of(st.text(max_size=30).map(lambda text: HOME / text),
                                               st.sampled_from([HOME, Path("/"), HOME / ".ssh/id_rsa"])),
                         st.sampled_from(["read", "create", "modify", "delete", "move_from", "move_to", "chmod",
                                          "execute"]),
                         st.none() | st.integers(), st.booleans())
process_effects = st.builds(ProcessEffect, st.integers(), st.none() | st.text(max_size=8),
                            st.none() | st.text(max_size=8), st.text(max_size=8))
impacts = st.builds(Impact, st.lists(path_effects, max_size=4).map(tuple),
                    st.lists(process_effects, max_size=3).map(tuple),
                    st.none() | st.lists(st.text(max_size=12), max_size=6).map(tuple), st.booleans(), st.booleans())
calls = st.builds(PolicyCall, st.sampled_from(["files.read", "files.delete", "shell.run", "process.start",
                                               "process.signal", "weird.tool", ""]),
                  st.sampled_from(["read", "write", "delete", "process", "exec", "network", "secret", "bogus", ""]),
                  st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.lists(st.text(max_size=5)),
                                  max_size=3),
                  impacts, st.none() | st.frozensets(st.sampled_from(["read", "write", "delete", "exec"])))


@FUZZ
@given(calls)
def test_decide_never_raises_and_always_names_a_rule(call: PolicyCall) -> None:
    """Any call gets a decision with a verdict, a rule and a reason; nothing raises."""
    decision = ENGINE.decide(call)
    assert decision.verdict in ("allow", "ask", "deny")
    assert decision.rule and decision.reason


def test_an_error_inside_the_engine_is_a_deny(monkeypatch: pytest.MonkeyPatch) -> None:
    """If anything inside decide raises, the call is denied with rule policy-error (fail closed)."""
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ENGINE.guard, "check", broken)
    call = PolicyCall("files.read", "read", {}, Impact(paths=(PathEffect(HOME / "notes.txt", "read"),)))
    decision = ENGINE.decide(call)
    assert (decision.verdict, decision.rule) == ("deny", "policy-error")


def test_a_malformed_call_is_not_allowed() -> None:
    """A call whose impact is not an Impact and whose argv is not a list is not allowed."""
    call = PolicyCall("shell.run", "exec", {"argv": "rm -rf ~"}, impact=None)  # type: ignore[arg-type]  # the malformed call is the point
    assert ENGINE.decide(call).verdict in ("ask", "deny")
