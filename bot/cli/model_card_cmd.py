"""`mlbot model-card`: MODEL_CARD.md for a registered version."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.repo import add_repo_argument, open_repo, read_json
from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument("model")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--version", help="a registered version (default: the production one)")
    which.add_argument("--stage", help="the version live in this stage")
    parser.add_argument("--evaluation", type=Path, help="evaluation.json to include")
    parser.add_argument(
        "--out", type=Path, help="output file (default: <repo>/MODEL_CARD.md); '-' for stdout"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.config.load import model_config, policy_for
    from bot.ml.model_card import model_card

    repo = open_repo(args)
    model = repo.model(args.model)
    mc = model_config(repo.config, model)
    policy = policy_for(repo.config, model, repo.root)
    state = repo.store.read_model(model, repo.store.head())
    if not state.versions:
        raise InputError(f"no version of {model} is registered yet.")
    if args.version:
        if args.version not in state.versions:
            raise InputError(f"{model} has no version {args.version}.")
        version = args.version
    else:
        stage = args.stage or policy.baseline_stage
        version = state.live.get(stage)
        if version is None:
            if args.stage:
                raise InputError(f"no version of {model} is live in {stage}.")
            version = state.latest() or state.versions[-1]
    record = state.record(version)
    live = sorted(s for s, v in state.live.items() if v == version)
    evaluation = read_json(args.evaluation, "evaluation") if args.evaluation else None
    text = model_card(record, mc, policy, live=live, evaluation=evaluation)
    if args.out == Path("-"):
        print(text, end="")
        return 0
    out = args.out or repo.root / "MODEL_CARD.md"
    out.write_text(text)
    print(f"wrote {out} for {model} {version}")
    return 0
