"""`mlbot drift`: Evidently's per-column drift tests on every row, judged by the policy."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.cli.repo import add_repo_argument
from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument(
        "--reference",
        type=Path,
        help="reference data, CSV or Parquet (default: the live version's, from its lineage)",
    )
    parser.add_argument("--current", type=Path, required=True, help="current data, CSV or Parquet")
    parser.add_argument("--model", help="model whose policy and reference apply")
    parser.add_argument("--stage", help="stage whose live version is compared (default: baseline)")
    parser.add_argument(
        "--out-dir", type=Path, help="where drift.json and drift.md go (default: <repo>/drift)"
    )
    parser.add_argument(
        "--report",
        type=Path,
        help="also write Evidently's HTML report here, on the policy's report_rows sample "
        "(the verdict never needs it)",
    )
    parser.add_argument("--json", action="store_true", help="print drift.json to stdout")
    parser.add_argument(
        "--open-issue",
        action="store_true",
        help="on drift, open the model's drift issue or comment on the open one (needs "
        "GITHUB_TOKEN and GITHUB_REPOSITORY; GITHUB_API_URL for GitHub Enterprise)",
    )
    parser.set_defaults(func=run)


def _context(args: argparse.Namespace, root: Path):
    """(policy, model, model config, stage, live record or None) for this run."""
    from bot.config.load import load_config, model_config, policy_for
    from bot.policy.schema import DriftPolicy

    if not (root / ".github" / "mlbot.yml").is_file():
        if args.model:
            raise InputError(f"--model needs a model repository; {root} has no .github/mlbot.yml.")
        return DriftPolicy(), None, None, None, None
    config = load_config(root)
    model = args.model
    if model is None and len(config.models) == 1:
        model = next(iter(config.models))
    if model is None:
        return policy_for(config, None, root).drift, None, None, None, None
    mc = model_config(config, model)
    policy = policy_for(config, model, root)
    stage = args.stage or policy.baseline_stage
    record = None
    from bot.registry.git_store import GitStore

    store = GitStore(root)
    state = store.read_model(model, store.head())
    live = state.live.get(stage)
    if live is not None:
        record = state.record(live)
    return policy.drift, model, mc, stage, record


def run(args: argparse.Namespace) -> int:
    from bot.ml.drift import detect, opened
    from bot.ml.progress import steps
    from bot.ml.reference import live_reference
    from bot.ml.render import drift_markdown
    from bot.ml.tabular import table_format

    root = Path(args.repo).resolve()
    table_format(args.current)
    if args.reference is not None:
        table_format(args.reference)
    drift_policy, model, mc, stage, record = _context(args, root)
    issue_client = None
    if args.open_issue:  # checked before the slow part: a missing token fails at once
        from bot.chatops.drift_issue import client_from_environment

        if model is None:
            raise InputError("--open-issue needs --model: the drift issue is per model.")
        issue_client = client_from_environment()
    ref_digest = None
    if args.reference is not None:
        ref_path, ref_shown = args.reference, str(args.reference)
    else:
        if mc is None or "reference" not in mc.data:
            raise InputError("give --reference (no model with data.reference to take it from).")
        if record is None:
            raise InputError(
                f"no version of {model} is live in {stage}: give --reference explicitly."
            )
        ref = live_reference(root, mc.data["reference"], record)
        ref_path, ref_shown, ref_digest = ref.path, ref.shown, ref.digest
        print(
            f"reference: {ref.shown} of {model} {record.version}, from the {ref.note}",
            file=sys.stderr,
        )
    out_dir = args.out_dir or root / "drift"
    html = args.report
    with steps("drift", total=3 if html is None else 4) as step:
        step("opening the reference and current data (column by column)")
        exclude = [mc.target] if mc is not None and mc.target else []
        with opened(ref_path, args.current) as (reference, current):
            result = detect(reference, current, drift_policy, exclude=exclude, html=html, step=step)
        step("writing drift.json and drift.md")
    import evidently

    result = {
        "model": model,
        "stage": stage if record is not None else None,
        "live_version": record.version if record is not None else None,
        "reference": ref_shown,
        "reference_digest": ref_digest,
        "current": str(args.current),
        "evidently_version": evidently.__version__,
        **result,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "drift.json").write_text(json.dumps(result, indent=2) + "\n")
    body = drift_markdown(result, evidently.__version__)
    (out_dir / "drift.md").write_text(body)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for c in result["columns"]:
            if c["drifted"]:
                print(f"  drifted {c['column']}: {c['method']} {c['score']:.4g}")
        verdict = "DRIFT" if result["dataset_drift"] else "no dataset drift"
        print(
            f"{verdict}: {result['drifted_columns']} of {result['columns_total']} columns drifted "
            f"({result['share']:.1%}; policy share {drift_policy.share:.0%}); "
            f"{result['sampling']['note']}"
        )
        written = [str(out_dir / "drift.json"), str(out_dir / "drift.md")]
        if html is not None:
            written.append(f"{html} (report: {result['report_sampling']['note']})")
        print(f"wrote {', '.join(written)}")
    if issue_client is not None and result["dataset_drift"]:
        from bot.chatops.drift_issue import open_or_comment

        gh, repository = issue_client
        issue = open_or_comment(
            gh, repository, str(model), body, drift=result, extra_labels=drift_policy.labels
        )
        print(f"drift issue #{issue.number} {issue.action}: {issue.url}", file=sys.stderr)
    return 1 if result["dataset_drift"] else 0
