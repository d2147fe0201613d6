"""Scoring a model on a table: scikit-learn metrics overall and per group (slices).

Both sides of a champion/challenger comparison go through `score`, on the
same rows, so their numbers are comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

SLICE_METRICS = {"classification": ("accuracy", "recall", "f1"), "regression": ("mae", "rmse")}
DIGITS = 6


@dataclass(frozen=True)
class Scores:
    metrics: dict[str, float]
    # metric -> {"groups": {group: value}, "gap": max - min}
    slices: dict[str, dict[str, Any]]
    rows: int


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def classification_metrics(y_true, y_pred, proba=None, classes=None) -> dict[str, float]:
    from sklearn import metrics as m

    labels = sorted(set(y_true) | set(y_pred), key=str)
    binary = len(set(classes if classes is not None else labels)) <= 2
    average = "binary" if binary else "macro"
    pos = {"pos_label": _positive(classes, labels)} if binary else {}
    out = {
        "accuracy": m.accuracy_score(y_true, y_pred),
        "precision": m.precision_score(y_true, y_pred, average=average, zero_division=0, **pos),
        "recall": m.recall_score(y_true, y_pred, average=average, zero_division=0, **pos),
        "f1": m.f1_score(y_true, y_pred, average=average, zero_division=0, **pos),
    }
    if proba is not None and len(set(y_true)) > 1:
        if binary:
            out["roc_auc"] = m.roc_auc_score(y_true, proba[:, -1])
        else:
            out["roc_auc"] = m.roc_auc_score(y_true, proba, multi_class="ovr", labels=list(classes))
    return {k: _round(v) for k, v in out.items()}


def _positive(classes, labels) -> Any:
    pool = list(classes) if classes is not None else labels
    return pool[-1] if pool else 1


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    from sklearn import metrics as m

    return {
        "rmse": _round(m.root_mean_squared_error(y_true, y_pred)),
        "mae": _round(m.mean_absolute_error(y_true, y_pred)),
        "r2": _round(m.r2_score(y_true, y_pred)),
    }


def feature_columns(model: object, frame: pd.DataFrame, exclude: Sequence[str]) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return [c for c in frame.columns if c not in set(exclude)]


def score(
    model: object,
    frame: pd.DataFrame,
    *,
    target: str,
    task: str,
    group_columns: Sequence[str] = (),
    source: str = "holdout",
) -> Scores:
    """The model's metrics on `frame` and, per group column, the slice metrics and gaps."""
    if len(frame) == 0:
        raise InputError(f"{source} has no rows to score.")
    if target not in frame.columns:
        raise InputError(f"{source} has no label column '{target}'.")
    missing_groups = [g for g in group_columns if g not in frame.columns]
    if missing_groups:
        raise InputError(f"{source} lacks the group column(s) {', '.join(missing_groups)}.")
    features = feature_columns(model, frame, [target, *group_columns])
    missing = [c for c in features if c not in frame.columns]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(
            f"{source} lacks {len(missing)} feature column(s) the model needs: {shown}."
        )
    x = frame[features]
    nulls = x.isna().sum()
    if int(nulls.sum()) or frame[target].isna().any():
        cols = [str(c) for c in nulls[nulls > 0].index] + (
            [target] if frame[target].isna().any() else []
        )
        raise InputError(
            f"{source} has missing values (NaN) in {', '.join(cols[:5])}; "
            "the model cannot score them: fix the data or impute in the pipeline."
        )
    try:
        y_pred = model.predict(x)  # type: ignore[attr-defined]
        proba = (
            model.predict_proba(x)  # type: ignore[attr-defined]
            if task == "classification" and hasattr(model, "predict_proba")
            else None
        )
    except (ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"the model cannot score {source}: {first}") from None
    y_true = frame[target].to_numpy()
    classes = getattr(model, "classes_", None)
    if task == "classification":
        metrics = classification_metrics(y_true, y_pred, proba, classes)
    else:
        metrics = regression_metrics(y_true, y_pred)
    slices: dict[str, dict[str, Any]] = {}
    for name in SLICE_METRICS[task] if group_columns else ():
        groups: dict[str, float] = {}
        for column in group_columns:
            labels = frame[column].astype(str).to_numpy()
            for group in sorted(set(labels)):
                mask = labels == group
                key = group if len(group_columns) == 1 else f"{column}={group}"
                if task == "classification":
                    part = classification_metrics(y_true[mask], y_pred[mask], None, classes)
                else:
                    part = regression_metrics(y_true[mask], y_pred[mask])
                groups[key] = part[name]
        if groups:
            slices[name] = {
                "groups": groups,
                "gap": _round(max(groups.values()) - min(groups.values())),
            }
    return Scores(metrics, slices, len(frame))
