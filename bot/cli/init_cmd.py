"""`mlbot init`: scaffold mlbot in an existing git repository.

In a repository GTO and DVC already use, the scaffold is read from what is
there: the models GTO registered or artifacts.yaml / dvc.yaml declare (with
their paths), the stages the tags use (or `.gto`'s list), dvc.yaml's
metrics files and params.yaml. When GTO tags exist, the records of their
versions are imported in one registry commit (no tag is changed).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot import documents
from bot.cli.repo import add_repo_argument
from bot.config.schema import CONFIG_PATH
from bot.errors import InputError
from bot.registry import declarations, gto_view, tags
from bot.registry.names import MODEL_NAME, STAGE_NAME, check_model_name

DEFAULT_STAGES = ["staging", "production"]
# Where the usual names sit on the way to production; others keep the order of the tags.
LADDER = {
    "dev": 0,
    "development": 0,
    "test": 1,
    "qa": 1,
    "stage": 2,
    "staging": 2,
    "pre-prod": 3,
    "preprod": 3,
    "canary": 4,
    "prod": 5,
    "production": 5,
}

CONFIG_HEAD = """\
# mlbot configuration. CODEOWNERS, this file and the policy are always read
# from the default branch, never from a pull request.
schema: mlbot/v1
policy: default          # a pack (default, strict) or a policy file
"""

MODEL_TEMPLATE = """\
  {model}:
    path: {path}
    train: {train}
    artifact: {artifact}
    metrics: {metrics}
{params}    task: classification
    group_columns: []
    policy: {{}}           # overrides for this model only
"""

CODEOWNERS_HINT = """\
# Who approves promotions and rollbacks of each model (GitHub's CODEOWNERS rules:
# the last matching pattern wins). Add this to .github/CODEOWNERS:
{lines}
"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument(
        "--model",
        help="first model's name (default: the models GTO tags or dvc.yaml name, else 'model')",
    )
    parser.add_argument("--path", help="the model's code folder (default: models/<name>)")
    parser.add_argument(
        "--no-import",
        action="store_true",
        help="do not import the versions GTO registered (see `mlbot registry import`)",
    )
    parser.set_defaults(func=run)


@dataclass
class Found:
    """What the repository already says about its models."""

    models: list[str]
    stages: list[str]
    declared: declarations.Declarations
    gto_versions: int


def _read(root: Path, name: str) -> bytes | None:
    path = root / name
    return path.read_bytes() if path.is_file() else None


def _gto_stages(root: Path) -> list[str] | None:
    content = _read(root, ".gto")
    data = documents.load_mapping(content, ".gto", empty_ok=True) if content else {}
    stages = data.get("stages")
    return [str(s) for s in stages] if isinstance(stages, list) else None


def discover(root: Path) -> Found:
    from bot.registry.git_store import GitStore

    declared = declarations.parse({name: _read(root, name) for name in declarations.FILES})
    events = [e for ref in GitStore(root, read_only=True).tags() if (e := tags.parse(ref))]
    by_model = sorted({e.model for e in events})
    stages: list[str] = []
    versions = 0
    for model in by_model:
        view = gto_view.read(model, events)
        versions += len(view.versions)
        stages += [s for s in view.stage_order() if s not in stages]
    first_seen = {s: i for i, s in enumerate(stages)}
    stages = sorted(stages, key=lambda s: (LADDER.get(s, 2.5), first_seen[s]))
    stages = _gto_stages(root) or stages
    models = by_model + [
        name for name in declared.artifacts if name not in by_model and MODEL_NAME.match(name)
    ]
    return Found(
        models=models,
        stages=[s for s in stages if STAGE_NAME.match(s)],
        declared=declared,
        gto_versions=versions,
    )


def _model_block(model: str, path_arg: str | None, found: Found) -> str:
    declared = found.declared.artifacts.get(model)
    artifact = declared.path if declared and declared.path else None
    if path_arg:
        path = path_arg
    elif artifact:
        path = str(PurePosixPath(artifact).parent)
    else:
        path = f"models/{model}"
    metrics = found.declared.metrics[0] if found.declared.metrics else f"{path}/metrics.json"
    params = f"    params: {found.declared.params[0]}\n" if found.declared.params else ""
    return MODEL_TEMPLATE.format(
        model=model,
        path=path,
        train="dvc repro" if found.declared.metrics else "python train.py",
        artifact=artifact or f"{path}/model.pkl",
        metrics=metrics,
        params=params,
    )


def config_text(models: list[str], path_arg: str | None, found: Found) -> str:
    text = CONFIG_HEAD
    if found.stages and found.stages != DEFAULT_STAGES:
        stages = ", ".join(found.stages)
        text += "overrides:               # deep-merged over the pack, for every model\n"
        text += f"  stages: [{stages}]   # the stages this repository's GTO tags use\n"
        # The pack's production block goes with the pack's stage names: the last stage
        # here gets what the pack asks of production, so it is not left open.
        last = found.stages[-1]
        source = f", from: [{found.stages[-2]}]" if len(found.stages) > 1 else ""
        text += "  promotion:\n"
        text += f"    {last}: {{approvals: 1, allow_self_approval: false{source}}}\n"
    else:
        text += "overrides: {}            # deep-merged over the pack, for every model\n"
    text += "models:\n" + "".join(_model_block(m, path_arg, found) for m in models)
    return text


def run(args: argparse.Namespace) -> int:
    root = Path(args.repo).resolve()
    if not (root / ".git").exists():
        raise InputError(f"{root} is not a git repository: run `git init` first.")
    config = root / CONFIG_PATH
    if config.exists():
        raise InputError(f"{CONFIG_PATH} already exists; edit it to add models.")
    found = discover(root)
    models = [check_model_name(args.model)] if args.model else found.models or ["model"]
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(config_text(models, args.path, found))
    registry = root / "registry"
    registry.mkdir(exist_ok=True)
    readme = registry / "README.md"
    if not readme.exists():
        readme.write_text(
            "# Model registry\n\nManaged by mlbot: every file here is written by a registry "
            "commit. Do not edit by hand; use `mlbot registry ...` or the bot's commands.\n"
        )
    print(f"created {CONFIG_PATH} and registry/ in {root}")
    print(f"models: {', '.join(models)}")
    if found.stages:
        print(f"stages (from the GTO tags): {' -> '.join(found.stages)}")
    if found.gto_versions and not args.no_import:
        _import(root)
    owners = root / ".github" / "CODEOWNERS"
    if not owners.exists():
        lines = "\n".join(f"/registry/{m}/ @your-org/ml-owners" for m in models)
        print(CODEOWNERS_HINT.format(lines=lines), end="")
    if found.gto_versions:
        print(f"next: commit {CONFIG_PATH}, then `mlbot policy check` and `mlbot registry show`")
    else:
        print(
            f"next: commit these files, then `mlbot registry register {models[0]} --artifact ...`"
        )
    return 0


def _import(root: Path) -> None:
    from bot.registry import audit
    from bot.registry.adopt import import_tags
    from bot.registry.git_store import GitStore

    store = GitStore(root)
    author = store.identity()
    change, commit = import_tags(store, author, audit.Audit(requested_by=str(author)))
    if change is not None and commit is not None:
        count = sum(1 for p in change.files if "/versions/" in p)
        print(f"imported {count} GTO version record(s) in {commit[:12]} (no tag changed)")
