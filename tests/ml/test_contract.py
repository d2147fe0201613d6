import pandas as pd
import pytest

from bot.errors import InputError
from bot.ml.contract import check, parse_contract

CONTRACT = """
schema: mlbot/contract/v1
rows: {min: 3, max: 10}
allow_extra_columns: false
columns:
  age: {dtype: int, min: 0, max: 120}
  income: {dtype: float, max_null_share: 0.5}
  city: {dtype: string, allowed: [paris, lyon]}
  label: {dtype: int, allowed: [0, 1]}
  note: {dtype: string, required: false}
"""


def frame(**over):
    data = {
        "age": [30, 40, 50, 60],
        "income": [1.0, 2.5, None, 4.0],
        "city": ["paris", "lyon", "paris", "lyon"],
        "label": [0, 1, 1, 0],
    }
    data.update(over)
    return pd.DataFrame(data)


def rules(violations):
    return sorted((v.column or "", v.rule) for v in violations)


def test_a_conforming_table_has_no_violations():
    assert check(frame(), parse_contract(CONTRACT, "c.yaml"), "t.csv") == []


def test_every_violation_is_reported_with_counts_and_examples():
    bad = frame(
        age=[30, -1, 500, 7.5],
        income=[None, None, None, 1.0],
        city=["paris", "berlin", "rome", "rome"],
        label=[0, 1, 2, 1],
    ).drop(columns=[])
    bad["extra"] = 1
    found = check(bad, parse_contract(CONTRACT, "c.yaml"), "t.csv")
    assert rules(found) == [
        ("age", "dtype"),
        ("age", "max"),
        ("age", "min"),
        ("city", "allowed"),
        ("extra", "extra-column"),
        ("income", "max_null_share"),
        ("label", "allowed"),
    ]
    by_rule = {(v.column, v.rule): v for v in found}
    assert by_rule[("city", "allowed")].count == 3
    assert by_rule[("city", "allowed")].examples == ("berlin", "rome")
    assert by_rule[("age", "dtype")].examples == ("7.5",)
    assert by_rule[("income", "max_null_share")].count == 3
    assert all(v.file == "t.csv" for v in found)


def test_missing_required_column_and_wrong_dtype_and_row_bounds():
    bad = frame(age=["thirty", "forty", "x", "y"]).drop(columns=["label"]).head(2)
    found = check(bad, parse_contract(CONTRACT, "c.yaml"), "t.csv")
    assert ("label", "required") in rules(found)
    assert ("age", "dtype") in rules(found)
    assert ("", "rows.min") in rules(found)
    # An optional column may be absent.
    assert ("note", "required") not in rules(found)


def test_integers_read_as_floats_because_of_nulls_still_count_as_int():
    contract = parse_contract(
        "columns: {n: {dtype: int, max_null_share: 0.5, allowed: [1, 2]}}", "c.yaml"
    )
    assert check(pd.DataFrame({"n": [1.0, None, 2.0]}), contract, "t.csv") == []


def test_nulls_are_checked_against_the_default_share():
    contract = parse_contract("columns: {x: {dtype: float}}", "c.yaml")
    found = check(pd.DataFrame({"x": [1.0, float("nan")]}), contract, "t.csv")
    assert rules(found) == [("x", "max_null_share")]


@pytest.mark.parametrize(
    "text, where",
    [
        ("columns: {}", "columns"),
        ("columns: {a: {dtype: decimal}}", "columns.a.dtype"),
        ("columns: {a: {min: 3, max: 1}}", "columns.a"),
        ("columns: [a]", "columns"),
        ("- not a mapping", "mapping"),
        ("columns: {a: {dtype: int, colour: red}}", "colour"),
    ],
)
def test_malformed_contracts_are_input_errors_naming_the_place(text, where):
    with pytest.raises(InputError, match=where):
        parse_contract(text, "c.yaml")
