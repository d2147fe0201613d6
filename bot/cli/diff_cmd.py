"""`mlbot diff`: candidate metrics against a stage, a version, or a git revision."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.repo import add_repo_argument, print_json, read_json
from bot.errors import InputError

if TYPE_CHECKING:
    from bot.diff.sources import Source

HELP = """\
Compare candidate metrics with a baseline. The baseline is a stage's live
version (--stage, default production), a registered version (--version), or
the same metrics files at a git revision (--rev, as `dvc metrics diff REV`;
the default without a model is HEAD). The candidate files are --metrics, or
the model's `metrics:`, or those dvc.yaml names (top-level `metrics:` and
stage `metrics` outputs). JSON, YAML and TOML files are read as DVC reads
them, and the JSON output is `dvc metrics diff --json`'s."""


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
        help="candidate metrics file(s) (default: the model's metrics file, else dvc.yaml's)",
    )
    parser.add_argument("--candidate", type=Path, help="candidate.json written by `mlbot train`")
    base = parser.add_mutually_exclusive_group()
    base.add_argument(
        "--stage", help="compare with this stage's live version (default: the baseline stage)"
    )
    base.add_argument("--version", help="compare with this registered version")
    base.add_argument("--rev", help="compare with the metrics files at this git revision")
    parser.add_argument("--all", action="store_true", help="include unchanged metrics")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="dvc-compatible JSON (default)")
    fmt.add_argument("--markdown", action="store_true", help="the PR comment body")
    add_repo_argument(parser)
    parser.set_defaults(func=run)


def _warn(message: str) -> None:
    print(f"mlbot diff: {message}", file=sys.stderr)


def _read(source: Source, paths: list[str]) -> dict[str, Any]:
    """Parsed metrics per path (None: missing or unreadable there, as DVC reads it)."""
    from bot.diff import metric_files

    # A folder stands for every file in it, as in DVC.
    inside = [f for p in paths for f in source.under(p)]
    contents = source.read(metric_files.expand(paths, inside))
    out: dict[str, Any] = {}
    for path, content in contents.items():
        if content is None:
            out[path] = None
            continue
        try:
            out[path] = metric_files.parse(content, path)
        except metric_files.MetricsFileError as exc:
            _warn(f"{exc} (in {source.name}; read as no metrics, as dvc does)")
            out[path] = None
    return out


def _declared(source: Source) -> list[str]:
    from bot.diff import metric_files, sources

    found = metric_files.declared(sources.dvc_files(source))
    for problem in found.problems:
        _warn(f"{problem} (in {source.name})")
    return found.paths


def run(args: argparse.Namespace) -> int:
    from bot.diff import metrics, sources

    root = Path(args.repo).resolve()
    model_cfg = config = None
    if args.model:
        from bot.config.load import load_config, model_config
        from bot.registry.names import check_model_name

        check_model_name(args.model)
        config = load_config(root)
        model_cfg = model_config(config, args.model)
    elif args.stage or args.version:
        raise InputError("--stage and --version need a model: `mlbot diff MODEL --stage S`.")

    workspace = sources.Workspace(root)
    named = [_relative(root, p) for p in args.metrics]
    if not named and args.candidate is None and model_cfg is not None and model_cfg.metrics:
        named = [model_cfg.metrics]
    if args.candidate is not None:
        new: dict[str, Any] = {
            (named or ["candidate.json"])[0]: read_json(args.candidate, "candidate").get("metrics")
        }
    else:
        new = _read(workspace, named or _declared(workspace))
        if not new:
            raise InputError(
                "no metrics files: name them with --metrics FILE, set the model's `metrics:`, "
                "or declare them in dvc.yaml (`metrics:` or a stage's `metrics` outputs)."
            )

    if args.rev or args.model is None:
        revision = sources.Revision(root, args.rev or "HEAD")
        from_candidate = list(new) if args.candidate is not None else None
        old = _read(revision, named or from_candidate or _declared(revision))
        baseline = metrics.Baseline("revision", revision.name, commit=revision.commit)
    else:
        state = sources.Revision(root, "HEAD").model_state(args.model)
        if args.version:
            if args.version not in state.versions:
                raise InputError(f"{args.model} has no version {args.version}.")
            baseline = metrics.Baseline("version", args.version, version=args.version)
        else:
            from bot.config.load import policy_for
            from bot.registry.names import check_stage_name

            # The repository's own baseline stage (`prod` in many GTO repositories).
            stage = check_stage_name(
                args.stage or policy_for(config, args.model, root).baseline_stage
            )
            baseline = metrics.Baseline("stage", stage, version=state.live.get(stage))
        record = state.record(baseline.version) if baseline.version else None
        old = dict.fromkeys(new, record.metrics if record else None)
    for path in new:
        if new[path] is None and old.get(path) is None:
            _warn(f"{path} exists on neither side.")

    if not args.markdown:
        print_json(metrics.diff_files(old, new, all=args.all))
        return 0

    from bot.diff.render import comment_markdown

    evaluation = _evaluation(args, config, root, new, old, baseline)
    print(comment_markdown(args.model or "metrics", evaluation), end="")
    return 0


def _merged(docs: dict[str, Any]) -> dict[str, Any] | None:
    present = [d for d in docs.values() if isinstance(d, dict)]
    if not present:
        return None
    return {k: v for doc in present for k, v in doc.items()}


def _evaluation(args, config, root: Path, new, old, baseline) -> dict:
    """An evaluation document for the renderer, with the policy's metric gates."""
    from bot.diff.metrics import diff

    merged_new = _merged(new) or {}
    merged_old = _merged(old)
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
            baseline_version=baseline.version,
            baseline_metrics=merged_old,
        )
        verdict = evaluate_candidate(policy, ev).to_json()
        directions = {name: gate.direction for name, gate in policy.metrics.items()}
    return {
        "model": args.model,
        "candidate": {"metrics": merged_new},
        "production": {"version": baseline.version or baseline.label, "metrics": merged_old}
        if merged_old is not None
        else None,
        "baseline": baseline.to_json(),
        "diff": diff(merged_old, merged_new),
        "verdict": verdict,
        "directions": directions,
        "policy": policy_name,
    }


def _relative(root: Path, path: Path) -> str:
    """Repository-relative, as dvc names files; a file outside the repository (a CI
    temp folder, say) keeps its absolute path and has no git revision side."""
    full = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        return full.relative_to(root).as_posix()
    except ValueError:
        return full.as_posix()
