"""`llmos policy show|check|explain`: the effective profile, a profile's validation, and how a command is judged."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from llmos.errors import UsageError

EXIT_DENIED = 3
EXIT_INVALID = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = commands.add_parser("policy", help="show, check or explain the policy profile")
    actions = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="the effective profile: roots, protected paths, decisions, rules")
    show.add_argument("--profile", metavar="NAME|PATH", help="a built-in name or a TOML path (default: your "
                                                             "policy.toml if there is one, else `default`)")
    show.add_argument("--json", action="store_true", help="print the profile as one JSON object")
    show.add_argument("--protected", action="store_true",
                      help="only the paths never changed (and read-only to sandboxed commands), the paths always "
                           "asked about, and the secrets never read (and hidden from sandboxed commands)")
    check = actions.add_parser("check", help="load and validate a profile, its rule examples included; exit 0 when "
                                             "it loads, 2 with the failing example when it does not")
    check.add_argument("profile", nargs="?", metavar="PATH|NAME",
                       help="profile to check (default: your policy.toml if there is one, else `default`)")
    explain = actions.add_parser(
        "explain", help="how a command would be judged: each sub-command with its decision, rule and reason",
        description="Parse the command (pipes, ;, &&, $(), redirections, wrappers such as sudo, sh -c, xargs, "
                    "find -exec) and judge every part. Exit 0 when it would be allowed or asked about, 3 when it "
                    "would be denied. A single argument with spaces is judged as a shell line (sh -c).")
    explain.add_argument("--profile", metavar="NAME|PATH", help="a built-in name or a TOML path (default: your "
                                                                "policy.toml if there is one, else `default`)")
    explain.add_argument("--json", action="store_true", help="print the judgement as one JSON object")
    explain.add_argument("argv", nargs=argparse.REMAINDER, metavar="ARGV...", help="the command, e.g. rm -rf ~")
    policy.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    if options.policy_command == "check":
        return _check(options.profile)
    profile = _load(options.profile)
    if options.policy_command == "show":
        if options.protected:
            print("\n".join(protected_lines(profile)))
        else:
            _show(profile, options.json)
        return 0
    if options.policy_command == "explain":
        return _explain(profile, list(options.argv), options.json)
    return EXIT_INVALID


def _load(name_or_path: str | None) -> Any:
    from llmos.paths import config_dir
    from llmos.policies.profile import ProfileError, load_profile

    try:
        return load_profile(name_or_path, config_dir())
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def _check(name_or_path: str | None) -> int:
    from llmos.paths import config_dir
    from llmos.policies.profile import ProfileError, load_profile

    try:
        profile = load_profile(name_or_path, config_dir())
    except ProfileError as exc:
        print(f"llmos: {exc}", file=sys.stderr)
        return EXIT_INVALID
    examples = sum(len(rule.match) + len(rule.not_match) for rule in profile.commands)
    print(f"ok: profile {profile.name!r} loads ({len(profile.commands)} command rules, {examples} examples pass; "
          f"from {' <- '.join(reversed(profile.sources))})")
    return 0


def _show(profile: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(profile.model_dump(), indent=2))
        return
    for line in profile_summary_lines(profile):
        print(line)


def profile_summary_lines(profile: Any) -> list[str]:
    """The profile as `llmos policy show` prints it: roots, protected paths, decisions and command rules."""
    lines = [f"profile: {profile.name}  ({' <- '.join(reversed(profile.sources))})"]
    if profile.description:
        lines.append(f"  {profile.description}")
    lines.append(f"readable roots: {', '.join(profile.readable_roots) or '(none)'}")
    lines.append(f"writable roots: {', '.join(profile.writable_roots) or '(none)'}")
    lines.append(f"denied paths:   {', '.join(profile.denied_paths) or '(none)'}")
    lines.append(f"secret paths:   {', '.join(profile.secret_paths) or '(none)'}")
    lines.append("effects:        " + ", ".join(f"{effect}={verdict}" for effect, verdict in profile.effects.items()))
    if profile.tools:
        lines.append("tools:          " + ", ".join(f"{tool}={verdict}" for tool, verdict in profile.tools.items()))
    lines.append(f"command rules ({len(profile.commands)}; the strictest matching rule wins):")
    width = max((len(rule.name) for rule in profile.commands), default=0)
    for rule in profile.commands:
        network = " [network]" if rule.network else ""
        lines.append(f"  {rule.decision:<5}  {rule.name:<{width}}  {rule.justification}{network}")
    return lines


def protected_lines(profile: Any) -> list[str]:
    """What a profile protects, as `llmos policy show --protected` prints it and the README quotes it."""

    def wrapped(title: str, paths: list[str]) -> list[str]:
        lines, line = [title], " "
        for path in paths:
            if len(line) + len(path) + 2 > 100:
                lines.append(line.rstrip())
                line = " "
            line += f" {path},"
        lines.append(line.rstrip(","))
        return lines

    return [
        *wrapped("never changed, read-only to sandboxed commands (besides llmos's own config, data and runtime "
                 "folders, and system paths):", profile.denied_paths),
        *wrapped("always asked about before a change, read-only to sandboxed commands:", profile.asked_paths),
        *wrapped("never read, hidden from sandboxed commands:", profile.secret_paths),
        *(wrapped("processes never signalled or reniced (by name or pid, running or not):",
                  profile.protected_processes) if profile.protected_processes else []),
    ]


def effective_profile(name_or_path: str | None) -> Any:
    """The profile a session started with `--policy name_or_path` uses: that one, else the config's, else the
    user's policy.toml, else `default`; a profile that does not load is a UsageError."""
    from llmos.config import load_config

    return _load(name_or_path or load_config().policy)


def _engine(profile: Any) -> Any:
    from llmos.paths import config_dir, data_dir, runtime_dir
    from llmos.policies.engine import PolicyEngine

    return PolicyEngine(profile, home=Path.home(), protected_paths=[config_dir(), data_dir(), runtime_dir()])


def _explain(profile: Any, argv: list[str], as_json: bool) -> int:
    from llmos.display import escape_for_display

    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("policy explain needs a command, e.g. `llmos policy explain rm -rf ~`")
    as_shell_line = len(argv) == 1 and any(char.isspace() for char in argv[0])
    judged = ["sh", "-c", argv[0]] if as_shell_line else argv
    explanation = _engine(profile).explain_command(judged, cwd=Path.cwd())
    overall = explanation.decision
    if as_json:
        print(json.dumps({
            "argv": argv, "judged_as_shell_line": as_shell_line, "decision": overall.verdict, "rule": overall.rule,
            "reason": overall.reason, "problems": explanation.parsed.problems,
            "commands": [{"argv": list(j.command.argv) if j.command else None,
                          "via": list(j.command.via) if j.command else [],
                          "redirects": [[r.op, r.target] for r in j.command.redirects] if j.command else [],
                          "decision": j.decision.verdict, "rule": j.decision.rule, "reason": j.decision.reason}
                         for j in explanation.judgements],
        }, indent=2))
    else:
        shown = escape_for_display(" ".join(argv))
        print(f"command: {shown}" + ("  (judged as a shell line: sh -c)" if as_shell_line else ""))
        for judgement in explanation.judgements:
            command = judgement.command
            if command is None:
                what = "(the whole command)"
            else:
                via = f"[{' > '.join(command.via)}] " if command.via else ""
                redirects = "".join(f" {r.op} {r.target}" for r in command.redirects)
                what = escape_for_display(via + " ".join(command.argv) + redirects)
            decision = judgement.decision
            print(f"  {decision.verdict:<5}  {what}\n         {decision.rule}: {decision.reason}")
        print(f"overall: {overall.verdict} ({overall.rule}): {overall.reason}")
    return EXIT_DENIED if overall.verdict == "deny" else 0
