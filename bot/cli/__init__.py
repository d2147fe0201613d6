"""The `mlbot` command line.

`mlbot --help` must stay fast and must not import heavy libraries, so the
top-level parser only knows each command's name and one-line help; the
module that defines a command is imported only when that command runs.
Each module exposes `configure(parser)`, which adds its arguments and sets
`func` (a callable taking the parsed namespace and returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bot import __version__
from bot.errors import MlbotError

# name -> (module, one-line help). Order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("bot.cli.init_cmd", "scaffold mlbot in an existing model repository"),
    "registry": ("bot.cli.registry_cmd", "register, promote, roll back and inspect models"),
    "diff": ("bot.cli.diff_cmd", "compare candidate metrics with a version, stage or file"),
    "policy": ("bot.cli.policy_cmd", "check or explain the policy in force"),
    "scan-gate": ("bot.cli.scan_gate_cmd", "gate a Trivy JSON report against the scan policy"),
    "verify-blob": ("bot.cli.verify_blob_cmd", "verify a cosign blob signature or bundle"),
    "sign-blob": ("bot.cli.sign_blob_cmd", "sign a file as `cosign sign-blob --key` does"),
    "serve": ("bot.cli.serve_cmd", "run the webhook bot (GitHub App) over HTTP"),
    "github": ("bot.cli.github_cmd", "put GitHub's deployments right from the registry"),
    "validate": ("bot.cli.validate_cmd", "check data against its contract, and mlbot.yml"),
    "train": ("bot.cli.train_cmd", "train a model under MLflow and write candidate.json"),
    "evaluate": ("bot.cli.evaluate_cmd", "champion/challenger evaluation against production"),
    "drift": ("bot.cli.drift_cmd", "data drift between reference and current data (Evidently)"),
    "model-card": ("bot.cli.model_card_cmd", "write MODEL_CARD.md for a registered version"),
    "retrain-body": ("bot.cli.retrain_body_cmd", "write the retraining PR's body, as the bot does"),
    "mlflow": ("bot.cli.mlflow_cmd", "re-sync the MLflow Model Registry mirror from git"),
}


def _build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlbot",
        description="GitOps for machine-learning models: the git repository is the registry.",
    )
    parser.add_argument("--version", action="version", version=f"mlbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        cmd = sub.add_parser(name, help=summary, description=summary)
        if name == selected:
            importlib.import_module(module).configure(cmd)
    return parser


def _selected_command(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser(_selected_command(args_list))
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:  # no command given: show what there is, as a usage error
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except MlbotError as exc:
        print(f"mlbot: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mlbot: interrupted", file=sys.stderr)
        return 130
