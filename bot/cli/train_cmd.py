"""`mlbot train`: run a model's training under MLflow and write candidate.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.repo import add_repo_argument, open_repo
from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument("model", nargs="?", help="model to train (default: the only one)")
    parser.add_argument(
        "--out", type=Path, help="where to write candidate.json (default: <repo>/candidate.json)"
    )
    parser.add_argument("--holdout", type=Path, help="holdout data (default: the model's)")
    parser.add_argument("--json", action="store_true", help="print candidate.json to stdout")
    parser.set_defaults(func=run)


def pick_model(repo, name: str | None) -> str:
    if name:
        return repo.model(name)
    models = sorted(repo.config.models)
    if len(models) != 1:
        raise InputError(
            f"name the model: {len(models)} are configured ({', '.join(models) or 'none'})."
        )
    return models[0]


def run(args: argparse.Namespace) -> int:
    from bot.config.load import model_config
    from bot.ml.progress import steps
    from bot.ml.training import train

    repo = open_repo(args)
    model = pick_model(repo, args.model)
    mc = model_config(repo.config, model)
    holdout = args.holdout.resolve() if args.holdout else None
    with steps(f"training {model}") as step:
        candidate = train(repo.root, model, mc, holdout=holdout, step=step)
    out = args.out or repo.root / "candidate.json"
    out.write_text(json.dumps(candidate, indent=2) + "\n")
    if args.json:
        print(json.dumps(candidate, indent=2))
    else:
        shown = ", ".join(
            f"{k} {v:.4g}" for k, v in candidate["metrics"].items() if isinstance(v, int | float)
        )
        print(f"trained {model}: {shown}")
        print(f"artifact {candidate['artifact']['path']} sha256:{candidate['artifact']['sha256']}")
        print(f"MLflow run {candidate['lineage']['mlflow_run_id']}; wrote {out}")
    return 0
