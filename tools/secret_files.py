"""The one secret rule for every tool that returns file content: a file the policy treats as a secret (the rule
that makes it refuse `files.read`: ~/.ssh, ~/.gnupg, *.key, *.pem, .netrc, .pgpass, ...) is never read, and a
folder that is one is never entered. A walk skips them and counts them, so the result (and llmos) can say
"skipped N secret files". Names of secret files outside secret folders may still be listed (as `ls` shows them);
their content, and the listing of a secret folder, never.

Inside a session the rule is the session policy's; outside one (a tool called directly), or with a policy that
does not say, the default profile's rules apply: never "not a secret" by default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from llmos.tools.context import active_context
from llmos.tools.paths import display_path, home_dir
from llmos.tools.registry import ToolError

if TYPE_CHECKING:
    from llmos.policies.engine import PolicyEngine


def secret_rule() -> Callable[[Path], bool]:
    """The rule for the call running now: path -> whether it is a secret (errors count as secret: fail closed)."""
    context = active_context()
    judge = context.is_secret if context is not None else None
    home = home_dir()

    def is_secret(path: Path) -> bool:
        try:
            verdict = judge(path) if judge is not None else None
            if verdict is None:
                verdict = _default_engine(str(home)).is_secret(path)
        except Exception:  # noqa: BLE001  a rule that cannot decide keeps the file out (fail closed)
            return True
        return bool(verdict)

    return is_secret


def refuse_secret(path: Path) -> None:
    """For a tool given one file: refuse a secret with a readable error (the policy refuses it first; this makes
    the tool hold to it whatever policy it runs under)."""
    if secret_rule()(path):
        raise ToolError(f"{display_path(path)} is a secret; llmos never reads secrets")


def secret_note(count: int) -> str:
    """What a result says about the secrets it left out (`count`: secret files plus secret folders not entered)."""
    plural = "s" if count != 1 else ""
    return f"skipped {count} secret file{plural} or folder{plural}: llmos never reads secrets"


@functools.lru_cache(maxsize=4)
def _default_engine(home: str) -> PolicyEngine:
    from llmos.policies.engine import PolicyEngine
    from llmos.policies.profile import load_profile

    return PolicyEngine(load_profile("default"), home=Path(home))
