"""`mlbot init`: scaffold mlbot in an existing git repository."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.repo import add_repo_argument
from bot.config.schema import CONFIG_PATH
from bot.errors import InputError
from bot.registry.names import check_model_name

CONFIG_TEMPLATE = """\
# mlbot configuration. CODEOWNERS, this file and the policy are always read
# from the default branch, never from a pull request.
schema: mlbot/v1
policy: default          # a pack (default, strict) or a policy file
overrides: {{}}            # deep-merged over the pack, for every model
models:
  {model}:
    path: {path}
    train: python train.py
    artifact: {path}/model.pkl
    metrics: {path}/metrics.json
    task: classification
    group_columns: []
    policy: {{}}           # overrides for this model only
"""

CODEOWNERS_HINT = """\
# Who approves promotions and rollbacks of each model (GitHub's CODEOWNERS rules:
# the last matching pattern wins). Add this to .github/CODEOWNERS:
/registry/{model}/ @your-org/ml-owners
"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument("--model", default="model", help="first model's name (default: model)")
    parser.add_argument("--path", help="the model's code folder (default: models/<name>)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = Path(args.repo).resolve()
    if not (root / ".git").exists():
        raise InputError(f"{root} is not a git repository: run `git init` first.")
    model = check_model_name(args.model)
    config = root / CONFIG_PATH
    if config.exists():
        raise InputError(f"{CONFIG_PATH} already exists; edit it to add models.")
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG_TEMPLATE.format(model=model, path=args.path or f"models/{model}"))
    registry = root / "registry"
    registry.mkdir(exist_ok=True)
    readme = registry / "README.md"
    if not readme.exists():
        readme.write_text(
            "# Model registry\n\nManaged by mlbot: every file here is written by a registry "
            "commit. Do not edit by hand; use `mlbot registry ...` or the bot's commands.\n"
        )
    print(f"created {CONFIG_PATH} and registry/ in {root}")
    owners = root / ".github" / "CODEOWNERS"
    if not owners.exists():
        print(CODEOWNERS_HINT.format(model=model), end="")
    print("next: commit these files, then `mlbot registry register " + model + " --artifact ...`")
    return 0
