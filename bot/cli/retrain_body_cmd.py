"""`mlbot retrain-body`: the retraining PR's body, as the bot writes it.

The retrain workflow's script (`actions/train/retrain-pr.sh`) opens the same
kind of PR the bot opens from a drift issue or `/retrain`; both bodies come
from one template (`bot/chatops/templates/flow_retrain_pr.md.j2`), so the two
PRs read the same. What is live comes from the repository's registry.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from bot.cli.repo import add_repo_argument, open_repo


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument("model")
    parser.add_argument("--reason", default="", help="why it is retrained (shown as code)")
    parser.add_argument("--requested-by", required=True, help="the GitHub login that asked")
    parser.add_argument("--run-url", help="the workflow run that asked (linked)")
    parser.add_argument("--issue", type=int, help="the issue the PR closes")
    parser.add_argument("--out", type=Path, help="output file (default: stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.chatops.retrain import default_window, pr_body
    from bot.config.load import policy_for
    from bot.errors import InputError

    if args.issue is not None and args.issue <= 0:
        raise InputError(f"#{args.issue} is not an issue number.")
    repo = open_repo(args)
    model = repo.model(args.model)
    stage = policy_for(repo.config, model, repo.root).baseline_stage
    state = repo.store.read_model(model, repo.store.head())
    live = state.stages.stages.get(stage) if state.stages is not None else None
    now = dt.datetime.now(dt.timezone.utc)
    body = pr_body(
        model,
        reason=args.reason,
        requested_by=args.requested_by,
        stage=stage,
        live=live.version if live else None,
        issue=args.issue,
        run_url=args.run_url,
        window=default_window(live.since if live else None, now),
    )
    if args.out is None:
        print(body, end="")
    else:
        args.out.write_text(body, encoding="utf-8")
    return 0
