"""Data contracts (schema: mlbot/contract/v1) and checking a table against one.

A contract names each column's dtype, whether it is required, its range,
its allowed values and its largest share of nulls, plus bounds on the row
count. `check` reports every violation, never just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot import documents
from bot.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

CONTRACT_SCHEMA = "mlbot/contract/v1"
DType = Literal["int", "float", "number", "string", "bool", "datetime", "category", "any"]
EXAMPLES = 5


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ColumnRule(_Strict):
    dtype: DType = "any"
    required: bool = True
    min: float | None = None
    max: float | None = None
    allowed: list[Any] | None = None
    max_null_share: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _range(self) -> ColumnRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class RowBounds(_Strict):
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class Defaults(_Strict):
    max_null_share: float = Field(default=0.0, ge=0, le=1)


class Contract(_Strict):
    schema_: Literal["mlbot/contract/v1"] = Field(default=CONTRACT_SCHEMA, alias="schema")
    name: str | None = None
    rows: RowBounds = Field(default_factory=RowBounds)
    allow_extra_columns: bool = True
    defaults: Defaults = Field(default_factory=Defaults)
    columns: dict[str, ColumnRule] = Field(min_length=1)

    def null_share(self, rule: ColumnRule) -> float:
        return (
            rule.max_null_share if rule.max_null_share is not None else self.defaults.max_null_share
        )


@dataclass(frozen=True)
class Violation:
    file: str
    rule: str
    message: str
    column: str | None = None
    count: int = 0
    examples: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "column": self.column,
            "rule": self.rule,
            "count": self.count,
            "examples": list(self.examples),
            "message": self.message,
        }


def parse_contract(content: bytes | str, source: str) -> Contract:
    return documents.parse(content, Contract, f"contract {source}")


def load_contract(path: Path) -> Contract:
    if not path.is_file():
        raise InputError(f"contract {path} does not exist.")
    return parse_contract(path.read_bytes(), str(path))


def _examples(values: pd.Series) -> tuple[str, ...]:
    return tuple(str(v) for v in values.drop_duplicates().head(EXAMPLES).tolist())


def _dtype_ok(series: pd.Series, dtype: str) -> tuple[bool, pd.Series]:
    """Whether the column has the dtype, and the non-null values that break it."""
    import pandas as pd
    from pandas.api import types as t

    present = series.dropna()
    if dtype == "any":
        return True, present.iloc[:0]
    if dtype == "int":
        if t.is_bool_dtype(series):
            return False, present
        if t.is_integer_dtype(series):
            return True, present.iloc[:0]
        if t.is_float_dtype(series):
            # A CSV column with a null reads as float: integral values still count as int.
            bad = present[present != present.round()]
            return bad.empty, bad
        numeric = pd.to_numeric(present, errors="coerce")
        return False, present[numeric.isna() | (numeric != numeric.round())]
    if dtype in ("float", "number"):
        if t.is_numeric_dtype(series) and not t.is_bool_dtype(series):
            return True, present.iloc[:0]
        return False, present[pd.to_numeric(present, errors="coerce").isna()]
    if dtype == "bool":
        if t.is_bool_dtype(series):
            return True, present.iloc[:0]
        return False, present[~present.isin([True, False, 0, 1])]
    if dtype in ("string", "category"):
        if t.is_object_dtype(series) or t.is_string_dtype(series):
            bad = present[~present.map(lambda v: isinstance(v, str))]
            return bad.empty, bad
        if isinstance(series.dtype, pd.CategoricalDtype):
            return True, present.iloc[:0]
        return False, present
    if dtype == "datetime":
        if t.is_datetime64_any_dtype(series):
            return True, present.iloc[:0]
        parsed = pd.to_datetime(present, errors="coerce", format="mixed")
        bad = present[parsed.isna()]
        return bad.empty, bad
    raise AssertionError(dtype)


def check(frame: pd.DataFrame, contract: Contract, file: str) -> list[Violation]:
    """Every way `frame` breaks `contract`, in column order."""
    import pandas as pd
    from pandas.api import types as t

    out: list[Violation] = []
    rows = len(frame)
    if contract.rows.min is not None and rows < contract.rows.min:
        out.append(
            Violation(file, "rows.min", f"{rows} rows, at least {contract.rows.min} expected.")
        )
    if contract.rows.max is not None and rows > contract.rows.max:
        out.append(
            Violation(file, "rows.max", f"{rows} rows, at most {contract.rows.max} expected.")
        )
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    for name in duplicated:
        out.append(Violation(file, "unique-columns", f"column {name} appears twice.", name))
    if not contract.allow_extra_columns:
        for name in frame.columns:
            if name not in contract.columns:
                out.append(
                    Violation(
                        file, "extra-column", f"column {name} is not in the contract.", str(name)
                    )
                )
    for name, rule in contract.columns.items():
        if name not in frame.columns:
            if rule.required:
                out.append(Violation(file, "required", f"column {name} is missing.", name))
            continue
        if name in duplicated:
            continue
        series = frame[name]
        nulls = int(series.isna().sum())
        allowed_share = contract.null_share(rule)
        if rows and nulls / rows > allowed_share:
            out.append(
                Violation(
                    file,
                    "max_null_share",
                    f"{nulls} of {rows} values are null ({nulls / rows:.1%}); "
                    f"at most {allowed_share:.1%} allowed.",
                    name,
                    nulls,
                )
            )
        ok, bad = _dtype_ok(series, rule.dtype)
        if not ok:
            out.append(
                Violation(
                    file,
                    "dtype",
                    f"expected {rule.dtype}, found {series.dtype}"
                    + (f" ({len(bad)} value(s) do not fit)" if len(bad) else "")
                    + ".",
                    name,
                    len(bad) if len(bad) else int(series.notna().sum()),
                    _examples(bad),
                )
            )
        present = series.dropna()
        if rule.min is not None or rule.max is not None:
            numeric = (
                present
                if t.is_numeric_dtype(series) and not t.is_bool_dtype(series)
                else pd.to_numeric(present, errors="coerce").dropna()
            )
            if rule.min is not None:
                low = numeric[numeric < rule.min]
                if len(low):
                    out.append(
                        Violation(
                            file,
                            "min",
                            f"{len(low)} value(s) below the minimum {rule.min:g}.",
                            name,
                            len(low),
                            _examples(low),
                        )
                    )
            if rule.max is not None:
                high = numeric[numeric > rule.max]
                if len(high):
                    out.append(
                        Violation(
                            file,
                            "max",
                            f"{len(high)} value(s) above the maximum {rule.max:g}.",
                            name,
                            len(high),
                            _examples(high),
                        )
                    )
        if rule.allowed is not None:
            allowed = {str(v) for v in rule.allowed}
            as_text = present.map(_canonical)
            outside = present[~as_text.isin(allowed)]
            if len(outside):
                out.append(
                    Violation(
                        file,
                        "allowed",
                        f"{len(outside)} value(s) outside the allowed set {sorted(allowed)}.",
                        name,
                        len(outside),
                        _examples(outside),
                    )
                )
    return out


def _canonical(value: object) -> str:
    # 1.0 read from a CSV column with nulls matches an allowed value of 1.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
