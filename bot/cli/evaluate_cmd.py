"""`mlbot evaluate`: the candidate against production on one holdout set, through the gates."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bot.cli.repo import add_repo_argument, open_repo, read_json
from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument("model", nargs="?", help="model to evaluate (default: the only one)")
    parser.add_argument(
        "--candidate", type=Path, help="candidate.json (default: <repo>/candidate.json)"
    )
    parser.add_argument("--holdout", type=Path, help="holdout data (default: the model's)")
    parser.add_argument(
        "--out", type=Path, help="evaluation.json path (default: <repo>/evaluation.json)"
    )
    parser.add_argument(
        "--report", type=Path, help="Markdown report path (default: next to --out, .md)"
    )
    parser.add_argument("--run-url", help="link to the CI run, shown in the report")
    parser.add_argument("--json", action="store_true", help="print evaluation.json to stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.cli.train_cmd import pick_model
    from bot.config.load import model_config, policy_for
    from bot.ml import lineage
    from bot.ml.evaluation import evaluate
    from bot.ml.progress import steps
    from bot.ml.render import evaluation_markdown, evaluation_summary

    repo = open_repo(args)
    model = pick_model(repo, args.model)
    mc = model_config(repo.config, model)
    policy = policy_for(repo.config, model, repo.root)
    candidate = read_json(args.candidate or repo.root / "candidate.json", "candidate")
    if args.holdout:
        holdout = args.holdout.resolve()
    elif "holdout" in mc.data:
        holdout = repo.root / mc.data["holdout"]
    else:
        raise InputError(f"give --holdout: model '{model}' declares no data.holdout.")
    with (
        tempfile.TemporaryDirectory(prefix="mlbot-eval-") as tmp,
        steps(f"evaluating {model}") as step,
    ):
        evaluation = evaluate(
            repo.root,
            repo.store,
            model,
            mc,
            policy,
            candidate,
            holdout,
            workdir=Path(tmp),
            step=step,
        )
    out = args.out or repo.root / "evaluation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(evaluation, indent=2) + "\n")
    report = args.report or out.with_suffix(".md")
    markdown = evaluation_markdown(evaluation, run_url=args.run_url or lineage.ci_run_url())
    report.write_text(markdown)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as fh:
            fh.write(evaluation_summary(markdown) + "\n")
    passed = evaluation["verdict"]["passed"]
    if args.json:
        print(json.dumps(evaluation, indent=2))
    else:
        prod = evaluation["production"]
        against = (
            f"production {prod['version']}" if prod else "no production version (thresholds only)"
        )
        print(f"evaluated {model} candidate against {against}")
        for check in evaluation["verdict"]["checks"]:
            print(f"  {check['status']:4} {check['name']}: {check['reason']}")
        print(f"{'PASSED' if passed else 'FAILED'}; wrote {out} and {report}")
    return 0 if passed else 1
