"""Attacks on automations through the names of the files they react to, and through the folders a rule names.

- The event's file is data: filled into a rule's arguments it means exactly that one file, under every profile. A
  file named `*.pdf` (or `[a-z]*.pdf`, `?.pdf`, ...) must not make the PDF rule move every PDF; a name the file
  tools would read as something else (`$HOME`, a stem of `..`) is refused; newlines, leading dashes and long names
  stay that one file.
- A rule's scope holds whatever the profile allows: a call reaching beyond the event's file waits for a person
  even under power-user (which allows writes), and so does every run of a rule that asks before each run.
- A rule that watches or names a secret or protected folder (~/.ssh, ~/.gnupg, ~/.config/autostart) is refused,
  whatever its tool (notify included), when it is added and when the daemon loads it from a hand-edited file.

Everything runs the real runner (watchdog, policy, journal, audit) in a temp HOME, with the approval a person gave
when they added the rule, as the daemon does.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from llmos.tools import load_builtin_tools
from trees import isolate_xdg, use_memory_keyring

from llmos.automations.planner import check_rule
from llmos.automations.rules import Action, Rule, Trigger
from llmos.automations.runner import AutomationRunner
from llmos.automations.store import AutomationStore
from llmos.config import load_config
from llmos.errors import UsageError
from llmos.paths import config_dir
from llmos.runtime import load_safety

PROFILES = ("default", "power-user", "read-only")
CHANGES = {"default": True, "power-user": True, "read-only": False}
"""Whether the profile lets the rule's file action run at all (read-only denies every write)."""
HOSTILE_NAMES = ["*.pdf", "[a-z]*.pdf", "?.pdf", "{a,b}.pdf", "-rf.pdf", "..pdf", "a\nb.pdf", "*" * 3 + "x" * 200
                 + ".pdf"]
BYSTANDERS = ("a.pdf", "b.pdf", "x.pdf", "report.pdf")
"""PDFs beside the hostile one, each matched by at least one of the names read as a glob."""


@pytest.fixture
def home(temp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_xdg(tmp_path, monkeypatch)
    use_memory_keyring(monkeypatch)
    for name in BYSTANDERS:
        (temp_home / "Downloads" / name).write_bytes(b"%PDF")
    return temp_home


@pytest.fixture
def runner_under(home: Path) -> Iterator[Callable[[str], AutomationRunner]]:
    """Start a runner over the stored rules under the named profile (real watchdog, policy, journal, audit)."""
    started: list[AutomationRunner] = []

    def start(profile: str) -> AutomationRunner:
        config = load_config()
        notices: list[str] = []
        runner = AutomationRunner(AutomationStore(), load_builtin_tools(), lambda: load_safety(profile, config),
                                  notify=notices.append)
        runner.notices = notices  # type: ignore[attr-defined]  # the tests read the notices off the runner
        runner.start()
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.stop()


def rule_of(tool: str, args: dict[str, Any], *, path: str = "~/Downloads", glob: str = "*.pdf",
            **changes: Any) -> Rule:
    return Rule(trigger=Trigger(path=path, glob=glob), action=Action(tool=tool, args=args)).model_copy(
        update=changes)


MOVE_PDFS = {"source": "{path}", "destination": "~/Documents/PDFs/"}


def files_in(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


# -- the event's file is that one file --------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_an_event_file_named_like_a_pattern_is_only_that_file(home: Path, runner_under, profile: str,
                                                              name: str) -> None:
    """The PDF rule moves the file that arrived and nothing else, whatever its name spells: the other PDFs stay
    where they are under every profile (and read-only, which denies writes, moves nothing)."""
    hostile = home / "Downloads" / name
    hostile.write_bytes(b"%PDF")
    store = AutomationStore()
    rule = rule_of("files.move", MOVE_PDFS)
    store.add(rule)
    runner = runner_under(profile)
    runner.run_rule(rule.id, hostile)
    assert BYSTANDERS and all((home / "Downloads" / other).exists() for other in BYSTANDERS)
    moved = files_in(home / "Documents" / "PDFs")
    assert moved == ({name} if CHANGES[profile] else set()), store.runs(rule.id)
    assert hostile.exists() is not CHANGES[profile]


@pytest.mark.parametrize(("tool", "args"), [
    ("files.move", MOVE_PDFS),
    ("files.copy", {"source": "{path}", "destination": "~/Backup/"}),
    ("files.delete", {"path": "{path}"}),
    ("files.chmod", {"path": "{path}", "mode": "600"}),
    ("files.archive", {"source": "{path}", "destination": "~/Backup/{stem}.zip"}),
])
@pytest.mark.parametrize("profile", ("default", "power-user"))
def test_every_file_tool_takes_the_event_file_literally(home: Path, runner_under, profile: str, tool: str,
                                                       args: dict[str, Any]) -> None:
    """Each tool a rule may use, given `~/Downloads/*.pdf` as the event's file, acts on that file alone: the other
    PDFs are neither moved, copied, deleted, archived nor changed."""
    hostile = home / "Downloads" / "*.pdf"
    hostile.write_bytes(b"%PDF")
    (home / "Backup").mkdir()
    for other in BYSTANDERS:
        (home / "Downloads" / other).chmod(0o644)
    store = AutomationStore()
    rule = rule_of(tool, args)
    store.add(rule)
    runner = runner_under(profile)
    runner.run_rule(rule.id, hostile)
    for other in BYSTANDERS:
        assert (home / "Downloads" / other).exists() and (home / "Downloads" / other).stat().st_mode & 0o777 == 0o644
    assert not any(other in files_in(home / "Backup") for other in BYSTANDERS)
    assert store.runs(rule.id)[-1]["status"] == "ok", store.runs(rule.id)
    if tool == "files.archive":
        with zipfile.ZipFile(home / "Backup" / "*.zip") as archive:
            assert archive.namelist() == ["*.pdf"]


@pytest.mark.parametrize("profile", ("default", "power-user"))
@pytest.mark.parametrize(("name", "destination"), [
    ("$HOME.pdf", "~/Documents/PDFs/"),
    ("${HOME}.pdf", "~/Documents/PDFs/"),
    ("...pdf", "~/Sorted/{stem}/"),
    ("..pdf", "~/Sorted/{stem}/{name}"),
])
def test_a_name_the_file_tools_would_not_take_literally_is_refused(home: Path, runner_under, profile: str,
                                                                  name: str, destination: str) -> None:
    """A name holding `$VAR` (the file tools expand it) or one whose stem is `.` or `..` (it would climb out of
    the approved folder) is not filled in: the run is skipped with the reason, and nothing moves anywhere."""
    hostile = home / "Downloads" / name
    hostile.write_bytes(b"%PDF")
    (home / "Sorted").mkdir()
    store = AutomationStore()
    rule = rule_of("files.move", {"source": "{path}", "destination": destination})
    store.add(rule)
    runner = runner_under(profile)
    before = files_in(home)
    runner.run_rule(rule.id, hostile)
    assert hostile.exists() and files_in(home) == before and files_in(home / "Sorted") == set()
    assert store.runs(rule.id)[-1]["status"] == "skipped"


def test_a_notice_shows_a_newline_in_a_name_escaped(home: Path, runner_under) -> None:
    """A notify rule's text names the file, but a newline in the name cannot forge a second line of the notice."""
    hostile = home / "Downloads" / "x.pdf\nautomation 1234: all clear"
    hostile.write_bytes(b"%PDF")
    store = AutomationStore()
    rule = rule_of("notify", {"text": "new PDF: {name}"})
    store.add(rule)
    runner = runner_under("default")
    runner.run_rule(rule.id, hostile)
    assert runner.notices and all("\n" not in notice for notice in runner.notices)  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["{name}", "{stem}.pdf", "-{name}", "~{stem}", "Documents/{name}", " {name}"])
def test_an_argument_that_starts_with_the_file_name_is_refused(home: Path, value: str) -> None:
    """An argument naming the event's file must start from a folder: one starting with the name would be read
    against the daemon's working folder, as `~user`, or (a name starting with `-`) as an option."""
    rule = rule_of("files.move", {"source": "{path}", "destination": value})
    with pytest.raises(UsageError, match="does not start from a folder"):
        check_rule(rule, load_builtin_tools())


# -- the rule's scope holds under every profile -------------------------------------------------------------------


@pytest.mark.parametrize("profile", ("default", "power-user"))
def test_a_call_beyond_the_event_file_waits_for_a_person_even_where_writes_are_allowed(
        home: Path, runner_under, profile: str) -> None:
    """A glob the rule itself spells (`{folder}/*.pdf`) reaches every PDF: that call waits in the pending queue
    under power-user too, though power-user allows writes; nothing moves."""
    store = AutomationStore()
    rule = rule_of("files.move", {"source": "{folder}/*.pdf", "destination": "~/Documents/PDFs/"})
    store.add(rule)
    runner = runner_under(profile)
    runner.run_rule(rule.id, home / "Downloads" / "a.pdf")
    assert store.runs(rule.id)[-1]["status"] == "pending"
    assert "beyond the event's file" in store.pending()[0].reason
    assert all((home / "Downloads" / other).exists() for other in BYSTANDERS)


def test_a_rule_that_asks_before_each_run_asks_under_power_user(home: Path, runner_under) -> None:
    """`confirm_each` means each run waits for a person, even where the profile would allow the call."""
    store = AutomationStore()
    rule = rule_of("files.move", MOVE_PDFS, confirm_each=True)
    store.add(rule)
    runner = runner_under("power-user")
    runner.run_rule(rule.id, home / "Downloads" / "a.pdf")
    assert store.runs(rule.id)[-1]["status"] == "pending"
    assert (home / "Downloads" / "a.pdf").exists()


# -- secret and protected folders ---------------------------------------------------------------------------------

PROTECTED_RULES: list[tuple[str, Rule]] = [
    ("notify watching ~/.ssh", rule_of("notify", {"text": "key changed: {name}"}, path="~/.ssh", glob="*")),
    ("notify watching ~/.gnupg", rule_of("notify", {"text": "{name}"}, path="~/.gnupg", glob="*")),
    ("notify watching a folder under ~/.ssh", rule_of("notify", {"text": "{name}"}, path="~/.ssh/keys", glob="*")),
    ("notify watching ~/.config/autostart", rule_of("notify", {"text": "{name}"}, path="~/.config/autostart",
                                                    glob="*.desktop")),
    ("copy watching a folder under ~/.config/autostart",
     rule_of("files.copy", {"source": "{path}", "destination": "~/Backup/"}, path="~/.config/autostart/extra",
             glob="*")),
    ("move watching ~/.gnupg", rule_of("files.move", {"source": "{path}", "destination": "~/Backup/"},
                                       path="~/.gnupg", glob="*")),
    ("copy into ~/.ssh", rule_of("files.copy", {"source": "{path}", "destination": "~/.ssh/"})),
    ("move into ~/.config/autostart", rule_of("files.move", {"source": "{path}",
                                                             "destination": "~/.config/autostart/"}, glob="*")),
    ("notify watching home and all below it", rule_of("notify", {"text": "{name}"}, path="~", glob="*")
     .model_copy(update={"trigger": Trigger(path="~", glob="*", recursive=True)})),
]


def _cases(profile: str) -> list[tuple[str, Rule]]:
    """The protected-folder rules for `profile`. read-only lists no persistence folders (~/.config/autostart) among
    its protected paths, and makes nothing writable, so there only the secret folders are judged here."""
    return [(label, rule) for label, rule in PROTECTED_RULES if profile != "read-only" or "autostart" not in label]


PROFILE_CASES = [(profile, label, rule) for profile in PROFILES for label, rule in _cases(profile)]
CASE_IDS = [f"{profile}: {label}" for profile, label, _ in PROFILE_CASES]


def _add_as_the_cli_does(rule: Rule, profile: str) -> None:
    from llmos.commands.automations import _refuse_what_policy_denies

    (config_dir() / "config.toml").write_text(f'policy = "{profile}"\n')
    _refuse_what_policy_denies(check_rule(rule, load_builtin_tools()), load_builtin_tools())


@pytest.mark.parametrize(("profile", "label", "rule"), PROFILE_CASES, ids=CASE_IDS)
def test_a_rule_on_a_secret_or_protected_folder_is_refused_when_added(home: Path, profile: str, label: str,
                                                                     rule: Rule) -> None:
    """`llmos automations add` refuses a rule that watches or names a secret or protected folder, any tool."""
    config_dir().mkdir(parents=True, exist_ok=True)
    with pytest.raises(UsageError, match="secret or protected|the policy would deny every run"):
        _add_as_the_cli_does(rule, profile)


@pytest.mark.parametrize(("profile", "label", "rule"), PROFILE_CASES, ids=CASE_IDS)
def test_a_hand_edited_rule_on_a_secret_or_protected_folder_is_paused_when_loaded(
        home: Path, runner_under, profile: str, label: str, rule: Rule) -> None:
    """A rule written straight into the rules file is judged when the daemon loads it: paused with the reason,
    its folder not watched, and a run of it refused."""
    for folder in (".ssh/keys", ".gnupg", ".config/autostart/extra"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    store = AutomationStore()
    store.add(rule)
    runner = runner_under(profile)
    assert runner.active_rules == []
    assert "secret or protected" in str(store.rule(rule.id).paused_reason)
    (home / ".ssh" / "keys" / "id_new").write_text("KEY")
    (home / ".gnupg" / "new.key").write_text("KEY")
    time.sleep(0.3)
    assert not [notice for notice in runner.notices if "KEY" in notice or "id_new" in notice]  # type: ignore[attr-defined]
    assert runner.run_rule(rule.id, home / ".gnupg" / "new.key") is None
    assert (home / ".gnupg" / "new.key").exists()


def test_an_ordinary_rule_is_still_added_and_run(home: Path, runner_under) -> None:
    """The checks refuse folders, not rules: the PDF rule is added under each profile and runs under default."""
    config_dir().mkdir(parents=True, exist_ok=True)
    for profile in PROFILES:
        if profile != "read-only":  # which denies every write, so refuses a rule that only writes
            _add_as_the_cli_does(rule_of("files.move", MOVE_PDFS), profile)
        _add_as_the_cli_does(rule_of("notify", {"text": "new: {name}"}, path="~/Documents"), profile)
        _add_as_the_cli_does(rule_of("notify", {"text": "new: {name}"}, path="~/.config/myapp"), profile)
    store = AutomationStore()
    rule = rule_of("files.move", MOVE_PDFS)
    store.add(rule)
    runner = runner_under("default")
    runner.run_rule(rule.id, home / "Downloads" / "a.pdf")
    assert files_in(home / "Documents" / "PDFs") == {"a.pdf"}
