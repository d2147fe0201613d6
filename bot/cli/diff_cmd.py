"""`mlbot diff`: candidate metrics against a stage, a version, or a git revision."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.repo import add_repo_argument, print_json, read_json
from bot.errors import InputError

HELP = """\
Compare candidate metrics with a baseline. The baseline is a stage's live
version (--stage, default production), a registered version (--version), or
the same metrics files at a git revision (--rev, as `dvc metrics diff REV`).
JSON output has the shape of `dvc metrics diff --json`."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "model", nargs="?", help="a configured model (needed for --stage/--version)"
    )
    parser.add_argument(
        "--metrics",
        type=Path,
        action="append",
        default=[],
        help="candidate metrics file(s) (default: the model's metrics file)",
    )
    parser.add_argument("--candidate", type=Path, help="candidate.json written by `mlbot train`")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--stage", help="compare with the version live in this stage")
    base.add_argument("--version", help="compare with this registered version")
    base.add_argument("--rev", help="compare with the metrics files at this git revision")
    parser.add_argument("--all", action="store_true", help="include unchanged metrics")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="dvc-compatible JSON (default)")
    fmt.add_argument("--markdown", action="store_true", help="the PR comment body")
    add_repo_argument(parser)
    parser.set_defaults(func=run)


def _load_metrics(path: Path) -> dict:
    return read_json(path, "metrics")


def _at_revision(root: Path, rev: str, path: str) -> dict | None:
    from bot.registry.git_store import GitStore

    store = GitStore(root)
    proc = store._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise InputError(f"'{rev}' is not a git revision in {root}.")
    content = store.read_files(proc.stdout.strip(), [path])[path]
    if content is None:
        return None
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} at {rev} is not valid JSON: {exc}.") from None
    return data if isinstance(data, dict) else None


def run(args: argparse.Namespace) -> int:
    from bot.diff.metrics import diff_files

    root = Path(args.repo).resolve()
    candidate_doc = read_json(args.candidate, "candidate") if args.candidate else None
    config = model_cfg = None
    if args.model:
        from bot.cli.repo import open_repo

        repo = open_repo(args)
        repo.model(args.model)
        config = repo.config
        model_cfg = config.models[args.model]
    paths = [p for p in args.metrics]
    if not paths and candidate_doc is None:
        if model_cfg is None or not model_cfg.metrics:
            raise InputError("name the candidate metrics with --metrics FILE or --candidate.")
        paths = [Path(model_cfg.metrics)]
    rel = [_relative(root, p) for p in paths] or ["candidate.json"]
    new = {r: _load_metrics(_resolve(root, p)) for r, p in zip(rel, paths, strict=False)}
    if candidate_doc is not None:
        new = {rel[0]: candidate_doc.get("metrics", {})}

    baseline_version = None
    if args.rev:
        old = {r: _at_revision(root, args.rev, r) for r in new}
    elif args.model is None:
        old = {r: _at_revision(root, "HEAD", r) for r in new}
    else:
        repo_registry = repo.registry()
        state = repo_registry.state(args.model)
        if args.version:
            baseline_version = args.version
            if args.version not in state.versions:
                raise InputError(f"{args.model} has no version {args.version}.")
        else:
            stage = args.stage or "production"
            baseline_version = state.live.get(stage)
        record = state.record(baseline_version) if baseline_version else None
        old = {r: (record.metrics if record else None) for r in new}

    if not args.markdown:
        print_json(diff_files(old, new, all=args.all))
        return 0

    evaluation = _evaluation(args, config, new, old, baseline_version, root)
    from bot.diff.render import comment_markdown

    print(comment_markdown(args.model or "metrics", evaluation), end="")
    return 0


def _evaluation(args, config, new, old, baseline_version, root) -> dict:
    """An evaluation document for the renderer, with the policy's metric gates."""
    from bot.diff.metrics import diff

    merged_new = {k: v for doc in new.values() for k, v in (doc or {}).items()}
    merged_old = (
        {k: v for doc in old.values() for k, v in (doc or {}).items()}
        if any(v is not None for v in old.values())
        else None
    )
    verdict = {"passed": True, "checks": []}
    directions = {}
    policy_name = None
    if config is not None and args.model:
        from bot.config.load import policy_for
        from bot.policy.evidence import GateEvidence
        from bot.policy.gates import evaluate_candidate

        policy = policy_for(config, args.model, root)
        policy_name = policy.name
        ev = GateEvidence(
            stage=policy.baseline_stage,
            version="candidate",
            metrics=merged_new,
            baseline_version=baseline_version,
            baseline_metrics=merged_old,
        )
        verdict = evaluate_candidate(policy, ev).to_json()
        directions = {name: gate.direction for name, gate in policy.metrics.items()}
    return {
        "model": args.model,
        "candidate": {"metrics": merged_new},
        "production": {"version": baseline_version or args.rev or "HEAD", "metrics": merged_old}
        if merged_old is not None
        else None,
        "diff": diff(merged_old, merged_new),
        "verdict": verdict,
        "directions": directions,
        "policy": policy_name,
    }


def _resolve(root: Path, path: Path) -> Path:
    return path if path.is_absolute() else (Path.cwd() / path)


def _relative(root: Path, path: Path) -> str:
    full = _resolve(root, path).resolve()
    try:
        return full.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
