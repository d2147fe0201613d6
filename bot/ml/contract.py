"""Data contracts: a Pandera schema, or mlbot's own format translated into one.

A contract file is one of
- a Pandera `DataFrameSchema` as `pandera.io` writes it (YAML or JSON with
  `schema_type: dataframe`);
- a Python module exposing a `DataFrameSchema` (or a `DataFrameModel`),
  named `schema` unless it is the only one;
- mlbot's format (`schema: mlbot/contract/v1`): each column's dtype,
  whether it is required, its range, its allowed values and its largest
  share of nulls, plus bounds on the row count. It is translated into a
  Pandera schema (`to_pandera`), so one engine checks every contract.

A Python contract is code and runs as code: `mlbot validate` runs it in the
repository's own CI, as its training does; the bot never loads one.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot import documents
from bot.errors import InputError
from bot.ml.pandera_checks import Violation, register, violations

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

__all__ = ["Contract", "Violation", "check", "load_schema", "parse_contract", "to_pandera"]

CONTRACT_SCHEMA = "mlbot/contract/v1"
DType = Literal["int", "float", "number", "string", "bool", "datetime", "category", "any"]


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


def parse_contract(content: bytes | str, source: str) -> Contract:
    return documents.parse(content, Contract, f"contract {source}")


def _plain(bound: float) -> float | int:
    # `min: 0` reads as 0.0; the schema (and its messages) say 0.
    return int(bound) if float(bound).is_integer() else bound


def to_pandera(contract: Contract) -> pa.DataFrameSchema:
    """The Pandera schema that checks what the mlbot contract says."""
    import pandera.pandas as pa

    register()
    columns = {}
    for name, rule in contract.columns.items():
        checks = []
        if rule.dtype != "any":
            checks.append(pa.Check.mlbot_kind(kind=rule.dtype))
        if rule.min is not None:
            checks.append(pa.Check.ge(_plain(rule.min)))
        if rule.max is not None:
            checks.append(pa.Check.le(_plain(rule.max)))
        if rule.allowed is not None:
            checks.append(pa.Check.isin(rule.allowed))
        share = contract.null_share(rule)
        if share < 1:
            # Not `nullable: false` even for a share of 0: the report then says how many
            # values are null and what share is allowed, as mlbot's reports always have.
            checks.append(pa.Check.mlbot_max_null_share(share=share, ignore_na=False))
        columns[name] = pa.Column(None, checks, nullable=True, required=rule.required)
    frame_checks = []
    if contract.rows.min is not None or contract.rows.max is not None:
        frame_checks.append(pa.Check.mlbot_rows(min=contract.rows.min, max=contract.rows.max))
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        strict=not contract.allow_extra_columns,
        unique_column_names=True,
        name=contract.name,
    )


def check(frame: pd.DataFrame, schema: pa.DataFrameSchema | Contract, file: str) -> list[Violation]:
    """Every way `frame` breaks the contract, in column order."""
    if isinstance(schema, Contract):
        schema = to_pandera(schema)
    return violations(frame, schema, file)


def _from_module(path: Path) -> pa.DataFrameSchema:
    import pandera.pandas as pa

    register()
    name = f"mlbot_contract_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"contract {path} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and DataFrameModel look their module up
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise InputError(f"contract {path} failed to import: {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(name, None)
    found = {}
    for attr, value in vars(module).items():
        if isinstance(value, pa.DataFrameSchema):
            found[attr] = value
        elif (
            isinstance(value, type)
            and issubclass(value, pa.DataFrameModel)
            and value is not pa.DataFrameModel
            and value.__module__ == name
        ):
            found[attr] = value.to_schema()
    if "schema" in found:
        return found["schema"]
    if len(found) == 1:
        return next(iter(found.values()))
    names = ", ".join(sorted(found)) or "none"
    raise InputError(
        f"contract {path} must expose one pandera DataFrameSchema (or name it `schema`); "
        f"found: {names}."
    )


def _from_pandera_text(text: str, path: Path, as_json: bool) -> pa.DataFrameSchema:
    import pandera.io.pandas_io as pandas_io

    register()
    try:
        return pandas_io.from_json(text) if as_json else pandas_io.from_yaml(text)
    except Exception as exc:  # pandera raises many kinds for a bad document
        raise InputError(
            f"contract {path} is not a valid pandera schema: {type(exc).__name__}: {exc}"
        ) from None


def load_schema(path: Path) -> pa.DataFrameSchema:
    """The Pandera schema a contract file holds (mlbot's format is translated)."""
    if not path.is_file():
        raise InputError(f"contract {path} does not exist.")
    if path.suffix == ".py":
        return _from_module(path)
    content = path.read_bytes()
    document = documents.load_mapping(content, f"contract {path}")
    if "schema_type" in document:  # what pandera.io writes
        return _from_pandera_text(content.decode(), path, path.suffix == ".json")
    return to_pandera(documents.validate(document, Contract, f"contract {path}"))


def export_pandera(schema: pa.DataFrameSchema) -> str:
    """The schema as `pandera.io` YAML (reads back with `pandera.io.pandas_io.from_yaml`)."""
    return schema.to_yaml()
