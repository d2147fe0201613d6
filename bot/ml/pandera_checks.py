"""Running a Pandera schema on a table, and mlbot's own checks registered with Pandera.

Pandera is the one engine: a Pandera schema from the repository and an
mlbot contract translated into one (bot.ml.contract) both run here, with
lazy validation, and every failure case becomes a `Violation`. mlbot's
column kinds ("int" that accepts integral floats from a CSV column with
nulls, say), null shares and row bounds are Pandera extension checks, so a
translated schema round-trips through `pandera.io`'s YAML.

pandas and Pandera are imported on first use only.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.rendering.numbers import plural

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

EXAMPLES = 5
# Failure cases listed one by one in the JSON report, per violation (the count is always whole).
CASES = 1000
# Pandera's names for what went wrong, as mlbot's reports name them.
_REASONS = {
    "column_not_in_dataframe": "required",
    "column_not_in_schema": "extra-column",
    "duplicate_dataframe_column_labels": "unique-columns",
    "wrong_dtype": "dtype",
    "dtype_coercion_error": "dtype",
    "series_contains_nulls": "nullable",
    "series_contains_duplicates": "unique",
    "column_not_ordered": "ordered",
}
_CHECKS = {
    "mlbot_kind": "dtype",
    "mlbot_max_null_share": "max_null_share",
    "mlbot_rows": "rows",
    "greater_than_or_equal_to": "min",
    "less_than_or_equal_to": "max",
    "isin": "allowed",
}


@dataclass(frozen=True)
class Violation:
    file: str
    rule: str
    message: str
    column: str | None = None
    count: int = 0
    examples: tuple[str, ...] = field(default_factory=tuple)
    # Pandera's failure cases: (row index or None, value), at most CASES of them.
    cases: tuple[tuple[Any, str], ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "examples": list(self.examples),
            "message": self.message,
            "cases": [{"row": row, "value": value} for row, value in self.cases],
        }


def _is_number(value: object) -> bool:
    import numpy as np

    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _kind_ok(series: pd.Series, kind: str) -> pd.Series:
    """Per value, whether it is of the column kind (nulls are Pandera's to judge)."""
    import numpy as np
    import pandas as pd
    from pandas.api import types as t

    every = pd.Series(True, index=series.index)
    if kind == "any":
        return every
    if kind == "int":
        if t.is_bool_dtype(series):
            return ~every
        if t.is_integer_dtype(series):
            return every
        if t.is_float_dtype(series):
            # A CSV column with a null reads as float: integral values still count as int.
            return series == series.round()
        return series.map(lambda v: _is_number(v) and float(v).is_integer())
    if kind in ("float", "number"):
        if t.is_numeric_dtype(series) and not t.is_bool_dtype(series):
            return every
        return series.map(_is_number)
    if kind == "bool":
        if t.is_bool_dtype(series):
            return every
        return series.map(lambda v: isinstance(v, bool | np.bool_))
    if kind in ("string", "category"):
        if isinstance(series.dtype, pd.CategoricalDtype):
            return every
        return series.map(lambda v: isinstance(v, str))
    if kind == "datetime":
        if t.is_datetime64_any_dtype(series):
            return every
        return pd.to_datetime(series, errors="coerce", format="mixed").notna()
    raise ValueError(f"unknown column kind {kind!r}")


@functools.cache
def register() -> None:
    """Register mlbot's checks with Pandera (once), before a schema uses or loads them."""
    import pandas as pd
    from pandera import extensions

    @extensions.register_check_method(
        statistics=["kind"], supported_types=pd.Series, check_type="vectorized"
    )
    def mlbot_kind(series: pd.Series, *, kind: str) -> pd.Series:
        return _kind_ok(series, kind)

    @extensions.register_check_method(
        statistics=["share"], supported_types=pd.Series, check_type="vectorized"
    )
    def mlbot_max_null_share(series: pd.Series, *, share: float) -> bool:
        return not len(series) or bool(series.isna().mean() <= share)

    @extensions.register_check_method(
        statistics=["min", "max"], supported_types=pd.DataFrame, check_type="vectorized"
    )
    def mlbot_rows(frame: pd.DataFrame, *, min: int | None, max: int | None) -> bool:
        rows = len(frame)
        return (min is None or rows >= min) and (max is None or rows <= max)


def _examples(values: list[Any]) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        text = str(value)
        if text not in seen:
            seen.append(text)
        if len(seen) == EXAMPLES:
            break
    return tuple(seen)


def _failures(error: Any) -> list[Any]:
    cases = error.failure_cases
    if hasattr(cases, "columns") and "failure_case" in cases.columns:
        return cases["failure_case"].tolist()
    if hasattr(cases, "tolist"):
        return cases.tolist()
    return [] if cases is None else [cases]


def _cases(error: Any) -> tuple[tuple[Any, str], ...]:
    cases = error.failure_cases
    if not (hasattr(cases, "columns") and "failure_case" in cases.columns):
        return ()
    rows = cases["index"].tolist() if "index" in cases.columns else [None] * len(cases)
    values = cases["failure_case"].tolist()
    return tuple(
        (row if isinstance(row, int | str) else None, str(value))
        for row, value in zip(rows[:CASES], values[:CASES], strict=True)
    )


def _check_name(check: Any) -> str | None:
    name = getattr(check, "name", None)
    return name if isinstance(name, str) else None


def _reason(error: Any) -> str:
    return getattr(error.reason_code, "value", str(error.reason_code))


def _violation(frame: pd.DataFrame, file: str, error: Any) -> Violation:
    reason = _reason(error)
    check = error.check
    failures = _failures(error)
    column = error.column_name if isinstance(error.column_name, str) else None
    name = _check_name(check)
    rule = _REASONS.get(reason) or _CHECKS.get(name or "") or name or str(check or reason)
    stats = getattr(check, "statistics", None) or {}
    rows = len(frame)

    if reason in ("column_not_in_dataframe", "column_not_in_schema"):
        missing = str(failures[0]) if failures else column
        text = "is missing" if reason == "column_not_in_dataframe" else "is not in the schema"
        return Violation(file, rule, f"column {missing} {text}.", missing)
    if reason == "duplicate_dataframe_column_labels":
        names = ", ".join(_examples(failures))
        return Violation(file, rule, f"column(s) {names} appear more than once.", column)
    if name == "mlbot_rows":
        low = stats.get("min")
        if low is not None and rows < low:
            return Violation(file, "rows.min", f"{rows} rows, at least {low} expected.")
        return Violation(file, "rows.max", f"{rows} rows, at most {stats.get('max')} expected.")
    if name == "mlbot_max_null_share" and column in frame.columns:
        nulls = int(frame[column].isna().sum())
        return Violation(
            file,
            rule,
            f"{nulls} of {rows} values are null ({nulls / max(rows, 1):.1%}); "
            f"at most {stats.get('share', 0):.1%} allowed.",
            column,
            nulls,
        )
    if reason == "series_contains_nulls" and column in frame.columns:
        nulls = int(frame[column].isna().sum())
        return Violation(
            file, rule, f"{nulls} of {rows} values are null; the column is not nullable.", column,
            nulls,
        )  # fmt: skip
    if reason == "check_error":
        what = getattr(check, "error", None) or check
        return Violation(
            file,
            rule,
            f"the check {what} could not run: {failures[0] if failures else '?'}.",
            column,
        )
    if reason in ("wrong_dtype", "dtype_coercion_error"):
        found = frame[column].dtype if column in frame.columns else "?"
        return Violation(file, rule, f"expected {check}, found {found}.", column)
    return Violation(
        file, rule, _value_message(name, stats, check, failures, frame, column), column,
        len(failures), _examples(failures), _cases(error),
    )  # fmt: skip


def _value_message(
    name: str | None, stats: dict, check: Any, failures: list, frame: pd.DataFrame, column: Any
) -> str:
    count = len(failures)
    values = plural(count, "value")
    if name == "mlbot_kind":
        found = frame[column].dtype if column in frame.columns else "?"
        verb = "does" if count == 1 else "do"
        return f"expected {stats.get('kind')}, found {found} ({values} {verb} not fit)."
    if name == "greater_than_or_equal_to":
        return f"{values} below the minimum {stats.get('min_value')}."
    if name == "less_than_or_equal_to":
        return f"{values} above the maximum {stats.get('max_value')}."
    if name == "isin":
        allowed = sorted(str(v) for v in stats.get("allowed_values", []))
        return f"{values} outside the allowed set {allowed}."
    return f"{values} {'fails' if count == 1 else 'fail'} {getattr(check, 'error', None) or check}."


def violations(frame: pd.DataFrame, schema: pa.DataFrameSchema, file: str) -> list[Violation]:
    """Every way `frame` breaks `schema` (Pandera's lazy validation), in schema order."""
    from pandera.errors import SchemaError, SchemaErrors

    register()
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        errors = list(exc.schema_errors)
    except SchemaError as exc:  # raised before lazy collection starts (e.g. a bad index)
        errors = [exc]
    else:
        return []
    order = {name: i for i, name in enumerate(schema.columns)}
    judged = [(_reason(e), _violation(frame, file, e)) for e in errors]
    # A range check that cannot compare text with numbers says nothing the dtype
    # violation of the same column does not already say.
    mistyped = {v.column for _, v in judged if v.rule == "dtype"}
    found = [v for r, v in judged if not (r == "check_error" and v.column in mistyped)]
    return sorted(found, key=lambda v: (v.column is not None, order.get(v.column, len(order))))
