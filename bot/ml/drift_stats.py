"""One column's drift, by Evidently's own statistical tests, without building Evidently's report.

`DataDriftPreset` runs, per column, `ValueDrift`: it types the column from the
current data (`infer_column_type`), drops nulls and infinities, picks the test
(the policy's `method`, or Evidently's "auto" choice) and its threshold, and
calls the registered `StatTest` on the two series. This module does the same
steps and calls the same `StatTest` objects on the same values, so the method,
score, threshold and drifted flag are the preset's, column by column; what it
leaves out is everything the report builds around them (histograms,
correlations, widgets, a second pass for the drifted-columns count).

Two steps are mirrored rather than called, for speed, and the agreement tests
hold them to Evidently's: the "auto" choice counts distinct values only as
far as its decision needs (Evidently concatenates and counts the whole column
twice), and the text/categorical split of string columns held as
Categoricals counts their categories.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.errors import InputError
from bot.ml.columns import Column

if TYPE_CHECKING:
    import pandas as pd

# Evidently's ColumnType values for the kinds DataDriftPreset tests.
NUMERICAL, CATEGORICAL, TEXT = "num", "cat", "text"
TESTED = (NUMERICAL, CATEGORICAL, TEXT)
WORDS = {NUMERICAL: "numerical", CATEGORICAL: "categorical", TEXT: "text"}
# A distinct-value count on this many leading values settles "more than five" in most columns.
HEAD = 4096


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    column_type: str  # num, cat or text (Evidently's ColumnType value)
    test: str  # Evidently's registered stattest name: wasserstein, ks, psi, …
    method: str  # its display name, as Evidently's report shows it
    score: float
    threshold: float
    drifted: bool
    reference_rows: int  # values tested, nulls and infinities dropped
    current_rows: int
    effect: dict[str, Any]

    @property
    def score_kind(self) -> str:
        # Evidently's p-value tests say so in their display names; the rest are distances.
        return "p_value" if "p_value" in self.method else "distance"

    def as_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "column_type": self.column_type,
            "test": self.test,
            "method": self.method,
            "score_kind": self.score_kind,
            "score": _rounded(self.score),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "effect": self.effect,
        }


def column_type(current: Column) -> str:
    """Evidently's type for the column (from the current data, as DataDriftPreset types it)."""
    from evidently.core.datasets import infer_column_type

    if current.strings_as_categories:
        # infer_column_type on the object column pandas would hold: text when more than
        # half of the values are distinct, else categorical.
        values = current.values
        count = int(values.count())
        if count == 0:
            return "unknown"
        distinct = int(values.nunique())
        return TEXT if distinct > count * 0.5 else CATEGORICAL
    return infer_column_type(current.values).value


def cleaned(column: Column, kind: str) -> pd.Series:
    """The values Evidently tests: nulls and infinities dropped, exactly as ValueDrift does."""
    import numpy as np

    series = column.as_read() if kind == TEXT else column.values
    if series.dtype.kind in "iub" or (series.dtype.kind == "f" and np.isfinite(series).all()):
        # Nothing to drop: the column itself, not Evidently's two copies of the same values
        # (at ten million rows, two columns' worth of memory).
        return series
    return series.replace([-np.inf, np.inf], np.nan).dropna()


def choose_test(reference: pd.Series, current: pd.Series, kind: str, method: str | None):
    """The StatTest DataDriftPreset runs on the column: the policy's, or Evidently's "auto"."""
    from evidently.legacy.calculations import stattests
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    if method is not None:
        return get_stattest(reference, current, ColumnType(kind), method)
    # Evidently's _get_default_stattest, deciding on the same distinct-value counts.
    small = reference.shape[0] <= 1000
    if kind == TEXT:
        return (
            stattests.perc_text_content_drift_stat_test
            if small
            else stattests.abs_text_content_drift_stat_test
        )
    if kind == CATEGORICAL and not small:
        return stattests.jensenshannon_stat_test
    distinct = _distinct_up_to(reference, current, 5 if kind == NUMERICAL else 2)
    if kind == NUMERICAL and distinct > 5:
        return stattests.ks_stat_test if small else stattests.wasserstein_stat_test
    if not small:
        return stattests.jensenshannon_stat_test
    return stattests.chi_stat_test if distinct > 2 else stattests.z_stat_test


def _distinct_up_to(reference: pd.Series, current: pd.Series, limit: int) -> int:
    """Distinct values of both series together: exact up to `limit`, else some count above it."""
    import pandas as pd

    if len(reference) > HEAD or len(current) > HEAD:
        head = pd.concat([reference.iloc[:HEAD], current.iloc[:HEAD]]).nunique()
        if head > limit:
            return int(head)
    return int(pd.concat([reference, current]).nunique())


def column_drift(
    reference: Column,
    current: Column,
    kind: str,
    method: str | None = None,
    threshold: float | None = None,
) -> ColumnDrift:
    """Evidently's drift test on one column; unusable input is an InputError naming the column."""
    from evidently.legacy.core import ColumnType

    name = current.name
    ref, cur = cleaned(reference, kind), cleaned(current, kind)
    for what, values in (("reference", ref), ("current", cur)):
        if values.empty:
            raise InputError(
                f"column {name!r} has no values in the {what} data (all null or infinite), so "
                "Evidently cannot test it: fix the data or leave the column out."
            )
    if kind == NUMERICAL:
        import pandas as pd

        for what, values in (("reference", ref), ("current", cur)):
            if not pd.api.types.is_numeric_dtype(values):
                raise InputError(f"column {name!r} in the {what} data is not numeric.")
    from evidently.legacy.calculations.stattests.registry import (
        StatTestInvalidFeatureTypeError,
        StatTestNotFoundError,
    )

    try:
        test = choose_test(ref, cur, kind, method)
        result = test(ref, cur, ColumnType(kind), threshold)
    except StatTestInvalidFeatureTypeError:
        raise InputError(
            f"the policy's drift method {method!r} does not apply to the {WORDS[kind]} column "
            f"{name!r}: use method auto, or one Evidently allows for every column's type."
        ) from None
    except StatTestNotFoundError:
        raise InputError(f"Evidently has no drift method {method!r}.") from None
    except Exception as exc:  # Evidently raises ValueError and its own kinds for unusable input
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise InputError(f"Evidently could not test column {name!r}: {first}") from None
    return ColumnDrift(
        column=name,
        column_type=kind,
        test=test.name,
        method=test.display_name,
        score=float(result.drift_score),
        threshold=float(result.actual_threshold),
        drifted=bool(result.drifted),
        reference_rows=len(ref),
        current_rows=len(cur),
        effect=effect(ref, cur, kind),
    )


def effect(reference: pd.Series, current: pd.Series, kind: str) -> dict[str, Any]:
    """How far the column moved, in words a person reads without knowing the test."""
    if kind == NUMERICAL:
        ref_mean, cur_mean = float(reference.mean()), float(current.mean())
        ref_std = float(reference.std(ddof=0))
        change = (cur_mean - ref_mean) / abs(ref_mean) * 100 if ref_mean else None
        return {
            "kind": "mean",
            "reference_mean": _rounded(ref_mean),
            "current_mean": _rounded(cur_mean),
            # None where the reference mean is zero: a percentage of nothing says nothing.
            "mean_change_pct": _rounded(change),
            "mean_change_in_std": _rounded((cur_mean - ref_mean) / ref_std) if ref_std else None,
        }
    if kind == CATEGORICAL:
        ref_share = reference.value_counts(normalize=True)
        cur_share = current.value_counts(normalize=True)
        both = ref_share.index.union(cur_share.index)
        ref_share = ref_share.reindex(both, fill_value=0.0)
        cur_share = cur_share.reindex(both, fill_value=0.0)
        moved = (cur_share - ref_share).abs()
        if len(moved) == 0:
            return {"kind": "share"}
        top = moved.idxmax()
        return {
            "kind": "share",
            "category": str(top),
            "reference_share": _rounded(float(ref_share[top])),
            "current_share": _rounded(float(cur_share[top])),
        }
    return {"kind": "text"}


def _rounded(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)
