"""The policy engine: a pure function of (call, profile, context) that returns allow, ask or deny with the rule
that made it and a reason. deny beats ask beats allow; what it does not know is ask; if it fails, it denies.

It judges the facts of a call (its `Impact`: expanded paths with actions, processes with owners, the exact argv),
never the model's words: protected paths and secrets, processes that are not the user's, the request's own
allowed effect classes, and for commands every simple command the parser finds, with the profile's rules.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import pwd
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import psutil
from llmos.policies.command import ParsedCommand, SimpleCommand, parse_command
from llmos.policies.command.facts import CommandFacts, facts_of
from llmos.policies.command.wrappers import SHELLS
from llmos.policies.decision import VERDICT_STRICTNESS, Decision, PolicyCall, Verdict
from llmos.policies.impact import Impact
from llmos.policies.path_guard import WRITE_ACTIONS, PathGuard, glob_regex
from llmos.policies.physical_path import UnresolvablePath
from llmos.policies.profile import CommandRule, Profile
from llmos.policies.sandbox.confine import Confinement, confinement_of

from llmos.display import escape_for_display
from llmos.effects import Effect, parse_effect

__all__ = ["CommandExplanation", "CommandJudgement", "PolicyCall", "PolicyEngine", "strictest"]

COMMAND_TOOLS = frozenset({"shell.run", "process.start"})
# Which effect class a path action belongs to, for the profile's effect decisions and the request's intent.
ACTION_EFFECT: dict[str, Effect] = {"create": Effect.WRITE, "modify": Effect.WRITE, "move_from": Effect.WRITE,
                                     "move_to": Effect.WRITE, "chmod": Effect.WRITE, "delete": Effect.DELETE}
_EFFECT_WORDS: dict[Effect, str] = {
    Effect.READ: "only read (files, processes, system state)", Effect.WRITE: "change files",
    Effect.DELETE: "delete files", Effect.PROCESS: "control processes", Effect.EXEC: "run commands",
    Effect.NETWORK: "use the network", Effect.SECRET: "use secrets"}


@dataclass(frozen=True)
class CommandJudgement:
    """The decision for one simple command, or (command None) for the command line as a whole."""

    command: SimpleCommand | None
    decision: Decision


@dataclass(frozen=True)
class CommandExplanation:
    parsed: ParsedCommand
    judgements: list[CommandJudgement]
    decision: Decision
    network: bool
    """The command would use the network, and a rule or the profile lets it (the sandbox may open it)."""


def strictest(decisions: Sequence[Decision], default: Decision) -> Decision:
    """The first of the strictest decisions (deny beats ask beats allow); `default` when there are none."""
    if not decisions:
        return default
    top = max(VERDICT_STRICTNESS[decision.verdict] for decision in decisions)
    return next(decision for decision in decisions if VERDICT_STRICTNESS[decision.verdict] == top)


class PolicyEngine:
    """Decides calls under one profile. `protected_paths` are llmos's own config, policy, audit and journal folders
    (passed in: policy does not import llmos core); `known_tools`, when given, makes any other tool name ask;
    `protected_pids` are processes never signalled (the session's terminal, the daemon), besides llmos itself and
    the process that started it."""

    def __init__(self, profile: Profile, *, home: Path, protected_paths: Sequence[Path] = (),
                 uid: int | None = None, case_insensitive: bool | None = None,
                 known_tools: Collection[str] | None = None, protected_pids: Collection[int] = ()) -> None:
        self.profile = profile
        self.protected_pids = frozenset(protected_pids)
        self.known_tools = frozenset(known_tools) if known_tools is not None else None
        self.name = f"profile:{profile.name}"
        self.home = Path(home)
        self.uid = os.getuid() if uid is None else uid
        try:
            self.user_name = pwd.getpwuid(self.uid).pw_name
        except KeyError:
            self.user_name = str(self.uid)
        self.guard = PathGuard(home=self.home, llmos_paths=protected_paths, denied=profile.denied_paths,
                               secrets=profile.secret_paths, readable_roots=profile.readable_roots,
                               writable_roots=profile.writable_roots, case_insensitive=case_insensitive,
                               user_name=self.user_name)
        self.asked = [(pattern, glob_regex(self.guard.key(pattern), beneath=True))
                      for pattern in dict.fromkeys(self._expand_pattern(p) for p in profile.asked_paths)]

    def _expand_pattern(self, pattern: str) -> str:
        """A profile path pattern made absolute the way the path guard reads it (`~` is home; a bare name is
        anywhere)."""
        if pattern == "~" or pattern.startswith("~/"):
            return str(self.home) + pattern[1:]
        return pattern if pattern.startswith(("/", "**")) else "**/" + pattern

    def sandbox_confinement(self) -> Confinement:
        """What sandboxed commands must not see (the secrets and llmos's own folders) or change (the protected and
        asked paths), from the same patterns this engine judges paths by."""
        confinement = confinement_of(self.guard)
        return dataclasses.replace(confinement, protected_patterns=(
            *confinement.protected_patterns, *(pattern for pattern, _ in self.asked)))

    def _asked_finding(self, word: str | Path, action: str, cwd: Path, recursive: bool) -> Decision | None:
        """Ask before changing a path the profile's `asked_paths` names (or, recursively, holds), whatever the
        effect decisions say."""
        if action not in WRITE_ACTIONS or not self.asked:
            return None
        absolute = self.guard.absolute(word, cwd)
        lexical = self.guard.expand(word, cwd)
        if absolute is None or lexical is None:
            return None
        try:
            physical = self.guard.physical(absolute, cwd)
        except UnresolvablePath:
            physical = []  # the path guard denies what cannot be resolved; nothing to ask about here
        for candidate in dict.fromkeys([lexical, *physical]):
            key = self.guard.key(candidate)
            hit = next((pattern for pattern, regex in self.asked if regex.match(key)), None)
            if hit is None and recursive:
                hit = next((pattern for pattern, _ in self.asked
                            if self.guard.key(pattern).startswith(key.rstrip("/") + "/")), None)
            if hit is not None:
                return Decision("ask", "asked-path",
                                f"{self.guard.display(candidate)} is among the paths the {self.profile.name} "
                                f"profile always asks about ({self.guard.display(hit)}); llmos never changes it "
                                f"without asking")
        return None

    @property
    def writable_roots(self) -> tuple[Path, ...]:
        return tuple(Path(root) for root in self.guard.writable_roots)

    def is_secret(self, path: Path) -> bool:
        """Whether reading `path` (as named, or where its symlinks lead) is refused as a secret: the rule that
        refuses `files.read`, for tools to skip such files inside the folders they walk."""
        decision = self.guard.check(path, "read", cwd=self.home)
        return decision is not None and decision.rule == "secret-path"

    # -- calls -------------------------------------------------------------------------------------------------------

    def decide(self, call: PolicyCall) -> Decision:
        """The decision for one call. Never raises: an error inside the policy is a deny (fail closed)."""
        try:
            return self._decide(call)
        except Exception as exc:  # noqa: BLE001 - any failure must refuse, never allow
            return Decision("deny", "policy-error",
                            f"the policy check failed ({type(exc).__name__}); refused to be safe")

    def _decide(self, call: PolicyCall) -> Decision:
        cwd = call.cwd if call.cwd is not None else _current_dir(self.home)
        impact = call.impact if isinstance(call.impact, Impact) else Impact()
        # None: the call names an effect class the engine does not know (asked about below, never allowed).
        declared_effect = parse_effect(call.effect)
        findings: list[Decision] = []
        for effect in impact.paths:
            action = "read" if effect.action == "execute" else effect.action
            decision = self.guard.check(effect.path, action, cwd=cwd, recursive=effect.recursive)
            if decision is not None:
                findings.append(decision)
            asked = self._asked_finding(effect.path, action, cwd, effect.recursive)
            if asked is not None:
                findings.append(asked)
        for glob in impact.globs:
            decision = self.guard.check(glob.path, glob.action, cwd=cwd, recursive=glob.recursive)
            if decision is not None:
                findings.append(decision)
        findings.extend(self._process_findings(impact))
        is_command = call.tool in COMMAND_TOOLS or impact.argv is not None
        if is_command:
            argv = impact.argv if impact.argv is not None else call.args.get("argv")
            if not isinstance(argv, (list, tuple)) or not argv:
                findings.append(Decision("ask", "parse", "no command to judge was given"))
            else:
                explanation = self.explain_command(argv, effect=declared_effect or Effect.EXEC, cwd=cwd,
                                                   allowed_effects=call.allowed_effects)
                findings.append(explanation.decision)
        elif impact.network:
            findings.append(self._effect_decision(Effect.NETWORK, "the call uses the network"))
        intent = self._intent(call.effect, call.allowed_effects)
        if intent is not None:
            findings.append(intent)
        if declared_effect is None:
            findings.append(Decision("ask", "unknown-effect", f"{call.tool} declares an unknown effect "
                                                              f"{escape_for_display(call.effect)!r}"))
        if self.known_tools is not None and call.tool not in self.known_tools:
            findings.append(Decision("ask", "unknown-tool", f"{escape_for_display(call.tool)} is not a known tool"))
        base = self._base_decision(call.tool, declared_effect, is_command)
        if base is not None:
            findings.append(base)
        return strictest(findings, Decision("ask", "unknown-tool", f"nothing in the profile covers {call.tool}"))

    def _base_decision(self, tool: str, effect: Effect | None, is_command: bool) -> Decision | None:
        tool_verdict = self.profile.tools.get(tool)
        if tool_verdict is not None:
            return Decision(tool_verdict, f"tool:{tool}", f"the {self.profile.name} profile says {tool_verdict} for "
                                                          f"{tool}")
        if is_command:
            # Each command is judged by the rules, with the effect's decision as the fallback; a tool entry of
            # "allow" does not allow commands no rule covers.
            return None
        if effect is None:
            return None
        return self._effect_decision(effect, f"{tool} can {_EFFECT_WORDS[effect]}")

    def _effect_decision(self, effect: Effect, what: str) -> Decision:
        verdict = self.profile.effects.get(effect)
        if verdict is None:
            return Decision("ask", f"effect:{effect}", f"{what}; the {self.profile.name} profile does not say "
                                                       f"whether that is allowed")
        wording = {"allow": "allows", "ask": "asks before", "deny": "does not allow"}[verdict]
        return Decision(verdict, f"effect:{effect}", f"{what}; the {self.profile.name} profile {wording} that")

    @staticmethod
    def _intent(effect: Effect | str, allowed_effects: frozenset[Effect] | None) -> Decision | None:
        """Deny a class the request's words did not ask for; a name no class has (`str`) is never asked for."""
        if allowed_effects is None or effect == Effect.READ or effect in allowed_effects:
            return None
        known = parse_effect(effect)
        what = _EFFECT_WORDS[known] if known is not None else effect
        return Decision("deny", f"intent:{effect}", f"the request did not ask to {what}, "
                                                    f"so nothing it read can make llmos do it")

    def _process_findings(self, impact: Impact) -> list[Decision]:
        findings: list[Decision] = []
        own_pids = self._own_pids()
        for process in impact.processes:
            label = f"pid {process.pid} ({escape_for_display(process.name or '?')})"
            if process.pid <= 0:
                findings.append(Decision("deny", "process:all", f"{label} means a whole group or every process"))
            elif process.pid == 1:
                findings.append(Decision("deny", "process:init", f"{label} is the system's first process"))
            elif process.pid in own_pids:
                findings.append(Decision("deny", "process:self", f"{label} is llmos itself or what runs it"))
            elif process.user is None:
                findings.append(Decision("ask", "process:owner-unknown", f"the owner of {label} is not known"))
            elif process.user not in (self.user_name, str(self.uid)):
                findings.append(Decision("deny", "process:other-user",
                                         f"{label} belongs to {escape_for_display(process.user)}, not to you"))
        if impact.all_processes:
            findings.append(Decision("deny", "process:all", "the call targets every process"))
        for name in (*impact.process_names, *(process.name for process in impact.processes)):
            if (protected := self._protected_process(name)) is not None:
                findings.append(protected)
        return findings

    # -- commands ----------------------------------------------------------------------------------------------------

    def explain_command(self, argv: Sequence[str], *, effect: Effect = Effect.EXEC, cwd: Path | None = None,
                        allowed_effects: frozenset[Effect] | None = None) -> CommandExplanation:
        """Each simple command of `argv` with its decision, and the decision for the whole."""
        cwd_now: Path | None = cwd if cwd is not None else _current_dir(self.home)
        parsed = parse_command(list(argv))
        judgements = [CommandJudgement(None, Decision("ask", "parse", f"could not be fully understood: {problem}"))
                      for problem in parsed.problems]
        if parsed.fork_bomb:
            judgements.append(CommandJudgement(None, Decision("deny", "command:fork-bomb", parsed.fork_bomb)))
        if not parsed.commands and not parsed.problems:
            judgements.append(CommandJudgement(None, Decision("ask", "parse", "no command was found to judge")))
        all_facts = [(command, facts_of(command)) for command in parsed.commands]
        network_used = False
        for command, facts in all_facts:
            decision = self._judge_simple(command, facts, effect, cwd_now, allowed_effects)
            judgements.append(CommandJudgement(command, decision))
            network_used = network_used or facts.network is not None
            if facts.new_cwd is not None:
                new_dir = self.guard.working_folder(facts.new_cwd, cwd_now)
                cwd_now = Path(new_dir) if new_dir is not None else None
        download_and_run = _download_and_run(all_facts)
        if download_and_run is not None:
            judgements.append(CommandJudgement(None, Decision("deny", "download-and-run", download_and_run)))
        decisions = [judgement.decision for judgement in judgements]
        overall = strictest(decisions, Decision("ask", "parse", "no command was found to judge"))
        if not network_used or overall.verdict == "deny":
            return CommandExplanation(parsed, judgements, overall, False)
        shut_because = self._network_not_granted(parsed, all_facts, judgements)
        if shut_because is not None:
            overall = replace(overall, reason=f"{overall.reason}; the network stays shut for this run: "
                                                          f"{shut_because}")
        return CommandExplanation(parsed, judgements, overall, shut_because is None)

    def _network_not_granted(self, parsed: ParsedCommand, all_facts: list[tuple[SimpleCommand, CommandFacts]],
                             judgements: list[CommandJudgement]) -> str | None:
        """Why the sandbox's network stays shut for a command line that uses it, or None when it may open.

        The sandbox opens the network for the whole run, so it opens only when every simple command in the line
        (through pipes, lists, substitutions and wrappers) is a network program that a network rule, or the
        profile's network decision, covers: `curl URL; python3 -c ...` would hand the grant to python3 too."""
        if parsed.problems:
            return "part of the command could not be fully understood"
        decided = {id(judgement.command): judgement.decision for judgement in judgements if judgement.command}
        network_verdict = self.profile.effects.get(Effect.NETWORK)
        for command, facts in all_facts:
            shown = escape_for_display(" ".join(command.argv))[:80] or "a redirection"
            decision = decided.get(id(command))
            if facts.network is None:
                return f"`{shown}` runs in the same command line and is not a network command the grant covers"
            if facts.runs_code is not None or command.code_from_stdin or command.args_from_input:
                return f"`{shown}` runs code or arguments not spelled out, which no network grant covers"
            if decision is None or decision.verdict == "deny":
                return f"`{shown}` is refused"
            matching = [rule for rule in self.profile.commands if rule.matches(command)]
            if any(rule.network for rule in matching):
                continue
            if network_verdict is None or network_verdict == "deny":
                return f"no network rule covers `{shown}`"
        return None

    def _judge_simple(self, command: SimpleCommand, facts: CommandFacts, effect: Effect, cwd: Path | None,
                      allowed_effects: frozenset[Effect] | None) -> Decision:
        """One command: its matching rules first, then what its facts show, then the effect's fallback."""
        shown = escape_for_display(" ".join(command.argv))[:120] or escape_for_display(
            " ".join(f"{r.op} {r.target}" for r in command.redirects))
        matching = [rule for rule in self.profile.commands if rule.matches(command)] if command.argv else []
        rule_decision = _rule_decision(matching)
        found: list[Decision] = []
        if facts.privilege is not None:
            found.append(Decision("deny", "privilege", f"`{shown}` runs as another user ({facts.privilege}); llmos "
                                                       f"runs commands only as you"))
        if facts.runs_later is not None:
            found.append(Decision("deny", "scheduled", f"`{shown}` is handed to {facts.runs_later}, which runs it "
                                                       f"later by itself, outside llmos's sandbox and approval"))
        if facts.runs_code is not None:
            found.append(Decision("ask", "exec:code", f"{facts.runs_code}; llmos cannot judge what that code does"))
        classes = self._path_findings(facts, cwd, found)
        if facts.process_targets or facts.process_users or facts.all_processes or facts.process_names:
            classes.add(Effect.PROCESS)
            found.extend(self._signal_findings(facts))
        if facts.network is not None:
            classes.add(Effect.NETWORK)
            if not any(rule.network for rule in matching):  # a matching network rule decides through its verdict
                found.append(self._effect_decision(Effect.NETWORK, facts.network))
        for effect_class in sorted(classes):
            intent = self._intent(effect_class, allowed_effects)
            if intent is not None:
                found.append(intent)
            if effect_class in (Effect.WRITE, Effect.DELETE, Effect.PROCESS):
                found.append(self._effect_decision(effect_class, f"`{shown}` can {_EFFECT_WORDS[effect_class]}"))
        if rule_decision is None and command.argv:
            found.append(self._effect_decision(effect, f"no command rule covers `{shown}`"))
        return strictest([*([rule_decision] if rule_decision else []), *found],
                         Decision("allow", "command:redirect-only", "only redirects, which are judged above"))

    def _path_findings(self, facts: CommandFacts, cwd: Path | None, found: list[Decision]) -> set[Effect]:
        """Judge each path the command touches (adding to `found`); returns the effect classes they need."""
        classes: set[Effect] = set()
        for fact in facts.paths:
            if fact.word == "-":
                continue
            word = self._destination(fact.word, fact.into, cwd)
            if fact.only_if_secret:
                if self.guard.names_existing_file(word, cwd):
                    decision = self.guard.check(word, "read", cwd=cwd, unknown_program=True)
                    if decision is not None:
                        found.append(decision)
                continue
            if cwd is None and not word.startswith(("/", "~")):
                verdict: Verdict = "deny" if fact.action == "read" and not fact.unknown_program else "ask"
                found.append(Decision(verdict, "cwd-unknown", f"`{escape_for_display(word)}` is relative to a folder "
                                                              f"only known when the command runs"))
                continue
            decision = self.guard.check(word, fact.action, cwd=cwd, recursive=fact.recursive,
                                        files_only=fact.files_only, unknown_program=fact.unknown_program)
            if decision is not None:
                found.append(decision)
            asked = self._asked_finding(word, fact.action, cwd or self.home, fact.recursive)
            if asked is not None:
                found.append(asked)
            if fact.action in ACTION_EFFECT and not fact.unknown_program:
                classes.add(ACTION_EFFECT[fact.action])
        return classes

    def _destination(self, word: str, into: str | None, cwd: Path | None) -> str:
        """`mv a dir` moves to `dir/a` when `dir` is an existing folder."""
        if into is None or cwd is None:
            return word
        expanded = self.guard.expand(word, cwd)
        if expanded is not None and os.path.isdir(expanded):
            return word.rstrip("/") + "/" + into
        return word

    def _signal_findings(self, facts: CommandFacts) -> list[Decision]:
        findings: list[Decision] = []
        own_pids = self._own_pids()
        for target in facts.process_targets:
            try:
                pid = int(target)
            except ValueError:
                findings.append(Decision("ask", "process:unknown", f"`{escape_for_display(target)}` is not a plain "
                                                                   f"process id"))
                continue
            if pid in (0, -1) or pid == 1:
                rule = "process:init" if pid == 1 else "process:all"
                what = "the system's first process" if pid == 1 else "every process (or the whole group)"
                findings.append(Decision("deny", rule, f"pid {pid} is {what}"))
            elif pid < 0:
                findings.append(Decision("ask", "process:group", f"pid {pid} means the whole process group {-pid}"))
            elif pid in own_pids:
                findings.append(Decision("deny", "process:self", f"pid {pid} is llmos itself or what runs it"))
            elif (protected := self._protected_process(_process_name(pid))) is not None:
                findings.append(protected)
        # pkill and killall -r read the name as a regular expression searched in each process's name.
        findings.extend(protected for name in facts.process_names
                        if (protected := self._protected_process(name, regex=True)) is not None)
        for user in facts.process_users:
            if user not in (self.user_name, str(self.uid)):
                findings.append(Decision("deny", "process:other-user",
                                         f"signals processes of {escape_for_display(user)}, not yours"))
        if facts.all_processes is not None:
            findings.append(Decision("deny", "process:all", facts.all_processes))
        return findings

    def _protected_process(self, name: str | None, regex: bool = False) -> Decision | None:
        """A deny when `name` (a process's name, or a name or pattern a call matches processes by) is one the
        profile protects: a system service or the desktop session, which the person could lose their login,
        remote access or unsaved work to. Judged on the name, so it holds when llmos runs as root too (there the
        owner check protects nothing) and whether or not such a process runs right now."""
        if not name:
            return None
        wanted = name.strip().casefold()
        if not wanted:
            return None
        for pattern in self.profile.protected_processes:
            pattern_folded = pattern.casefold()
            # Both ways: a call's own pattern (`ssh*`) that would match a protected name is as bad as the name.
            if fnmatch.fnmatchcase(wanted, pattern_folded) or fnmatch.fnmatchcase(pattern_folded, wanted) \
                    or (regex and _regex_reaches(wanted, pattern_folded)):
                return Decision("deny", "process:protected",
                                f"{escape_for_display(name)} is a system service or part of your session "
                                f"({escape_for_display(pattern)} is protected); llmos never signals it")
        return None

    def _own_pids(self) -> frozenset[int]:
        return self.protected_pids | {os.getpid(), os.getppid()}

    def decide_command(self, argv: Sequence[str]) -> Decision:
        return self.explain_command(argv).decision

    def grants_network(self, call: PolicyCall) -> bool:
        """Whether the sandbox may open the network for this command (a rule or the profile lets it use it)."""
        argv = call.impact.argv if call.impact.argv is not None else call.args.get("argv")
        if not argv:
            return False
        try:
            return self.explain_command(argv, effect=parse_effect(call.effect) or Effect.EXEC, cwd=call.cwd,
                                        allowed_effects=call.allowed_effects).network
        except Exception:  # noqa: BLE001 - fail closed
            return False


def _rule_decision(rules: list[CommandRule]) -> Decision | None:
    decisions = [Decision(rule.decision, f"command:{rule.name}", rule.justification) for rule in rules]
    return strictest(decisions, Decision("ask", "parse", "")) if decisions else None


def _download_and_run(all_facts: list[tuple[SimpleCommand, CommandFacts]]) -> str | None:
    """A command line that fetches from the network and runs code it did not spell out (`curl | sh`,
    `bash -c "$(curl ...)"`, `wget x.sh; sh x.sh`)."""
    fetchers = [command for command, facts in all_facts if facts.network is not None]
    if not fetchers:
        return None
    for command, facts in all_facts:
        dynamic_program = bool(command.argv) and "$" in command.argv[0]
        runs_script = command.program in SHELLS and not command.code_from_stdin
        if command.code_from_stdin or dynamic_program or runs_script or (facts.runs_code and command.code
                                                                        and "$(" in command.code):
            fetched = escape_for_display(" ".join(fetchers[0].argv))[:80]
            return f"`{fetched}` fetches from the network and another part of the command runs code it did not " \
                   f"spell out; that is how a download runs unseen code"
    return None


def _current_dir(home: Path) -> Path:
    try:
        return Path.cwd()
    except OSError:
        return home


def _process_name(pid: int) -> str | None:
    """The running process's name (None when there is none, or it cannot be read): a pid is judged by what it is."""
    try:
        return psutil.Process(pid).name()
    except (psutil.Error, ValueError, OverflowError):  # gone, not readable, or no valid pid: other checks apply
        return None


def _regex_reaches(expression: str, protected: str) -> bool:
    """Whether a pkill-style expression (searched, not matched whole) finds the protected name: `ssh` and `^ssh`
    reach sshd. A glob in the protected name stands for one example of it (`systemd-*`: `systemd-x`). An
    expression that does not compile is judged by the glob checks alone."""
    try:
        return re.search(expression, protected.replace("*", "x").replace("?", "x")) is not None
    except re.error:
        return False
