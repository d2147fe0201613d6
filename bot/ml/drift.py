"""Data drift judged by the policy: Evidently's column tests on every row, its report on request.

Per column, the test (the policy's `method`, or Evidently's "auto" choice), its
score, threshold and drifted flag are those of Evidently's `DataDriftPreset`
(`bot.ml.drift_stats` calls the same tests on the same values); mlbot decides
the dataset verdict by the policy's share of drifted columns, as the preset
does. Columns are read and tested one at a time (`bot.ml.columns`), so memory
grows with a column, not with the frame. Evidently's HTML report, which costs
far more than the verdict, is built only when asked for, on the policy's
`report_rows` sample, and says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import InputError
from bot.ml.columns import Columns, FrameColumns, frame_of, sample_rows
from bot.ml.drift_stats import TESTED, ColumnDrift, column_drift, column_type
from bot.policy.schema import DriftPolicy

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

Step = Callable[[str], None]
SEED = 0


def detect(
    reference: pd.DataFrame | Columns,
    current: pd.DataFrame | Columns,
    policy: DriftPolicy,
    *,
    exclude: Sequence[str] = (),
    html: Path | None = None,
    step: Step | None = None,
) -> dict[str, Any]:
    """drift.json's core: per column (test, score, threshold, drifted, effect) and the dataset."""
    say = step or (lambda _msg: None)
    ref, cur = _columns(reference, "reference"), _columns(current, "current")
    for side in (ref, cur):
        if side.rows == 0:
            raise InputError(f"the {side.what} data has no rows.")
    skip = set(exclude)
    cur_names = [c for c in cur.names if c not in skip]
    ref_names = [c for c in ref.names if c not in skip]
    names = [c for c in cur_names if c in set(ref_names)]
    if not names:
        raise InputError(
            "the reference and current data have no column in common"
            + (f" (besides {', '.join(sorted(skip))})" if skip else "")
            + "."
        )
    ref_rows = sample_rows(ref.rows, policy.sample_rows, SEED)
    cur_rows = sample_rows(cur.rows, policy.sample_rows, SEED + 1)
    sampling = _sampling(ref.rows, cur.rows, ref_rows, cur_rows, policy.sample_rows, "verdict")
    say(f"Evidently's drift tests on {len(names)} columns, one at a time ({sampling['note']})")
    tested: list[ColumnDrift] = []
    skipped: list[dict[str, str]] = []
    for name in names:
        cur_col = cur.column(name)
        if cur_rows is not None:
            cur_col = cur_col.take(cur_rows)
        kind = column_type(cur_col)
        if kind not in TESTED:
            skipped.append({"column": name, "column_type": kind, "reason": _why_skipped(kind)})
            continue
        ref_col = ref.column(name)
        if ref_rows is not None:
            ref_col = ref_col.take(ref_rows)
        tested.append(
            column_drift(ref_col, cur_col, kind, _method(policy), policy.column_threshold)
        )
        del ref_col, cur_col  # one column of each side in memory at a time
    if not tested:
        kinds = ", ".join(f"{s['column']}: {s['column_type']}" for s in skipped)
        raise InputError(
            "Evidently tests numerical, categorical and text columns; the data has none in "
            f"common ({kinds})."
        )
    drifted = sum(1 for c in tested if c.drifted)
    share = drifted / len(tested)
    result: dict[str, Any] = {
        # Evidently's rule, share >= drift_share, with the policy's share.
        "dataset_drift": share >= policy.share,
        "drifted_columns": drifted,
        "columns_total": len(tested),
        "share": round(share, 6),
        "policy": {
            "method": policy.method,
            "column_threshold": policy.column_threshold,
            "share": policy.share,
            "sample_rows": policy.sample_rows,
            "report_rows": policy.report_rows,
        },
        "columns": [
            c.as_json() for c in sorted(tested, key=lambda c: (not c.drifted, str(c.column)))
        ],
        "sampling": sampling,
        "only_in_reference": sorted(set(ref_names) - set(names)),
        "only_in_current": sorted(set(cur_names) - set(names)),
        "not_tested": skipped,
    }
    # None when not asked for: Evidently's report is the costly part and the verdict needs none.
    result["report"], result["report_sampling"] = None, None
    if html is not None:
        say(f"Evidently's HTML report on up to {policy.report_rows or 'all'} rows: {html}")
        result["report_sampling"] = write_report(ref, cur, names, policy, html)
        result["report"] = str(html)
    result["generated_at"] = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return result


def write_report(
    reference: Columns, current: Columns, names: Sequence[str], policy: DriftPolicy, html: Path
) -> dict[str, Any]:
    """Evidently's DataDriftPreset report on the policy's report sample, saved as HTML."""
    ref_rows = sample_rows(reference.rows, policy.report_rows, SEED)
    cur_rows = sample_rows(current.rows, policy.report_rows, SEED + 1)
    sampling = _sampling(
        reference.rows, current.rows, ref_rows, cur_rows, policy.report_rows, "report"
    )
    snapshot = run_preset(
        frame_of(reference, names, ref_rows), frame_of(current, names, cur_rows), policy
    )
    html.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(html))
    return sampling


def run_preset(reference: pd.DataFrame, current: pd.DataFrame, policy: DriftPolicy):
    """Evidently's DataDriftPreset on two frames, configured from the policy; its snapshot."""
    import warnings

    from evidently import Report
    from evidently.presets import DataDriftPreset

    kwargs: dict[str, Any] = {"drift_share": policy.share}
    if _method(policy) is not None:
        kwargs["method"] = policy.method
    if policy.column_threshold is not None:
        kwargs["threshold"] = policy.column_threshold
    report = Report([DataDriftPreset(**kwargs)], include_tests=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return report.run(current_data=current, reference_data=reference)
    except Exception as exc:  # Evidently raises many kinds for unusable input
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise InputError(f"Evidently could not build its report: {first}") from None


@contextlib.contextmanager
def opened(reference: Path, current: Path) -> Iterator[tuple[Columns, Columns]]:
    """Both data files, column by column (CSV or Parquet)."""
    from bot.ml.columns import open_columns

    with open_columns(reference, "reference") as ref, open_columns(current, "current") as cur:
        yield ref, cur


def _columns(data: pd.DataFrame | Columns, what: str) -> Columns:
    import pandas as pd

    return FrameColumns(data, what) if isinstance(data, pd.DataFrame) else data


def _method(policy: DriftPolicy) -> str | None:
    return None if policy.method == "auto" else policy.method


def _why_skipped(kind: str) -> str:
    if kind == "datetime":
        return "a datetime column: Evidently's DataDriftPreset does not test datetimes"
    if kind == "list":
        return "a list column: Evidently's DataDriftPreset does not test lists"
    return (
        "a column of a type Evidently does not recognise (e.g. unsigned or nullable integers, "
        "dates, booleans with nulls, or all nulls): DataDriftPreset leaves it out"
    )


def _sampling(
    ref_total: int,
    cur_total: int,
    ref_rows: np.ndarray | None,
    cur_rows: np.ndarray | None,
    limit: int | None,
    purpose: str,
) -> dict[str, Any]:
    ref_used = ref_total if ref_rows is None else len(ref_rows)
    cur_used = cur_total if cur_rows is None else len(cur_rows)
    sampled = [
        f"{name} {used:,} of {total:,} rows"
        for name, used, total in (
            ("reference", ref_used, ref_total),
            ("current", cur_used, cur_total),
        )
        if used < total
    ]
    setting = "sample_rows" if purpose == "verdict" else "report_rows"
    note = (
        f"sampled uniformly at random (seed {SEED}) to the policy's {setting}={limit:,}: "
        + "; ".join(sampled)
        if sampled
        else "all rows used"
    )
    if sampled and purpose == "report":
        note += (
            "; the verdict is not taken from this report (see sampling), so the report's "
            "per-column results can differ from it"
        )
    return {
        "sample_rows": limit,
        "reference_rows": ref_total,
        "current_rows": cur_total,
        "reference_used": ref_used,
        "current_used": cur_used,
        "note": note,
    }
