"""`mlbot mlflow sync`: bring the MLflow Model Registry mirror back in line with git.

Registry commands mirror each change as it is written; this re-syncs a
mirror after a failed call, or when the mirror is first configured.
"""

from __future__ import annotations

import argparse
import json

from bot.cli.repo import add_repo_argument, open_repo
from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("sync", help="make MLflow's versions, aliases and tags agree with git")
    p.add_argument("model", nargs="*", help="models to sync (default: every mirrored model)")
    p.add_argument("--json", action="store_true")
    add_repo_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.ml.model_registry import sync

    repo = open_repo(args)
    mirrored = {n: mc.mlflow for n, mc in repo.config.models.items() if mc.mlflow is not None}
    names = [repo.model(n) for n in args.model] or sorted(mirrored)
    if not names:
        raise InputError("no model has an `mlflow:` block in .github/mlbot.yml.")
    registry = repo.registry()
    results = {}
    for name in names:
        if name not in mirrored:
            raise InputError(f"model '{name}' has no `mlflow:` block in .github/mlbot.yml.")
        state = registry.state(name)
        results[name] = sync(state, mirrored[name], focus=state.latest())
    if args.json:
        doc = {n: {"ok": r.ok, "done": r.done, "failed": r.failed} for n, r in results.items()}
        print(json.dumps(doc, indent=2))
    else:
        for name, report in results.items():
            print(f"{name}: {report.summary()}")
    return 0 if all(r.ok for r in results.values()) else 1
