"""Data drift with Evidently (0.7 API), judged by the policy's drift rules.

Evidently decides, per column, the test (or the policy's `method`), its score
and whether the column drifted; mlbot decides the dataset verdict by the
policy's share of drifted columns, samples frames above the policy's
`sample_rows` (and says so), and turns the result into drift.json and an
issue body a person can act on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import InputError
from bot.policy.schema import DriftPolicy

if TYPE_CHECKING:
    import pandas as pd

Step = Callable[[str], None]
SEED = 0


@dataclass(frozen=True)
class Prepared:
    reference: pd.DataFrame
    current: pd.DataFrame
    sampling: dict[str, Any]
    columns: list[str]
    only_in_reference: list[str]
    only_in_current: list[str]


def prepare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    policy: DriftPolicy,
    *,
    exclude: Sequence[str] = (),
) -> Prepared:
    """Common columns (minus `exclude`), and both frames sampled down as the policy says."""
    if len(reference) == 0:
        raise InputError("the reference data has no rows.")
    if len(current) == 0:
        raise InputError("the current data has no rows.")
    skip = set(exclude)
    ref_cols = [str(c) for c in reference.columns if c not in skip]
    cur_cols = {str(c) for c in current.columns if c not in skip}
    columns = [c for c in ref_cols if c in cur_cols]
    if not columns:
        raise InputError(
            "the reference and current data have no column in common"
            + (f" (besides {', '.join(sorted(skip))})" if skip else "")
            + "."
        )
    limit = policy.sample_rows
    sampling: dict[str, Any] = {
        "sample_rows": limit,
        "reference_rows": len(reference),
        "current_rows": len(current),
    }
    # Selecting columns copies a frame: at a million rows that copy is the largest cost
    # mlbot adds to Evidently's, so the frame is used as it is whenever it can be.
    ref = reference if list(reference.columns) == columns else reference[columns]
    cur = current if list(current.columns) == columns else current[columns]
    if limit is not None and len(ref) > limit:
        ref = ref.sample(n=limit, random_state=SEED, ignore_index=True)
    if limit is not None and len(cur) > limit:
        cur = cur.sample(n=limit, random_state=SEED, ignore_index=True)
    sampling["reference_used"], sampling["current_used"] = len(ref), len(cur)
    sampled = [
        f"{name} {used:,} of {total:,} rows"
        for name, used, total in (
            ("reference", len(ref), len(reference)),
            ("current", len(cur), len(current)),
        )
        if used < total
    ]
    sampling["note"] = (
        f"sampled uniformly at random (seed {SEED}) to the policy's sample_rows={limit:,}: "
        + "; ".join(sampled)
        if sampled
        else "all rows used"
    )
    return Prepared(
        ref,
        cur,
        sampling,
        columns,
        [c for c in ref_cols if c not in cur_cols],
        sorted(cur_cols - set(ref_cols)),
    )


def run_evidently(prepared: Prepared, policy: DriftPolicy):
    """Evidently's DataDriftPreset on the prepared frames; returns its snapshot."""
    import warnings

    from evidently import Report
    from evidently.presets import DataDriftPreset

    kwargs: dict[str, Any] = {"drift_share": policy.share}
    if policy.method != "auto":
        kwargs["method"] = policy.method
    if policy.column_threshold is not None:
        kwargs["threshold"] = policy.column_threshold
    report = Report([DataDriftPreset(**kwargs)], include_tests=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return report.run(current_data=prepared.current, reference_data=prepared.reference)
    except Exception as exc:  # Evidently raises many kinds for unusable input
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"Evidently could not compute drift: {first}") from None


def summarize(snapshot: Any, prepared: Prepared, policy: DriftPolicy) -> dict[str, Any]:
    """drift.json's core: per column (method, score, threshold, drifted) and the dataset."""
    data = snapshot.dict()
    status_by_metric = {
        t["metric_config"]["metric_id"]: t["status"]
        for t in data.get("tests", [])
        if t.get("metric_config", {}).get("metric_id")
    }
    columns: list[dict[str, Any]] = []
    counted: dict[str, Any] | None = None
    for metric in data.get("metrics", []):
        config = metric.get("config", {})
        kind = str(config.get("type", ""))
        if kind.endswith("ValueDrift"):
            status = status_by_metric.get(metric["id"])
            columns.append(
                {
                    "column": config.get("column"),
                    "method": config.get("method"),
                    "score": _float(metric.get("value")),
                    "threshold": config.get("threshold"),
                    # Evidently's own test says drifted or not (p-values vs distances differ).
                    "drifted": status == "FAIL",
                }
            )
        elif kind.endswith("DriftedColumnsCount"):
            counted = metric.get("value")
    if not columns:
        raise InputError("Evidently returned no per-column drift results.")
    drifted = sum(1 for c in columns if c["drifted"])
    share = drifted / len(columns)
    if counted is not None and round(float(counted.get("count", drifted))) != drifted:
        raise InputError("Evidently's drifted-column count disagrees with its column tests.")
    return {
        "dataset_drift": share >= policy.share,
        "drifted_columns": drifted,
        "columns_total": len(columns),
        "share": round(share, 6),
        "policy": {
            "method": policy.method,
            "column_threshold": policy.column_threshold,
            "share": policy.share,
            "sample_rows": policy.sample_rows,
        },
        "columns": sorted(columns, key=lambda c: (not c["drifted"], str(c["column"]))),
        "sampling": prepared.sampling,
        "only_in_reference": prepared.only_in_reference,
        "only_in_current": prepared.only_in_current,
    }


def _float(value: Any) -> float | None:
    try:
        return round(float(value), 6)
    except (TypeError, ValueError):
        return None


def detect(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    policy: DriftPolicy,
    *,
    exclude: Sequence[str] = (),
    html: Path | None = None,
    step: Step | None = None,
) -> dict[str, Any]:
    say = step or (lambda _msg: None)
    say("aligning columns and sampling")
    prepared = prepare(reference, current, policy, exclude=exclude)
    say(f"Evidently drift tests on {len(prepared.columns)} columns")
    snapshot = run_evidently(prepared, policy)
    say("summarizing per column and for the dataset")
    result = summarize(snapshot, prepared, policy)
    if html is not None:
        say(f"writing the HTML report {html}")
        html.parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(html))
        result["report"] = str(html)
    result["generated_at"] = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return result
