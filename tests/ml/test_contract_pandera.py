"""`mlbot validate` with Pandera schemas as contracts, and mlbot's format run through Pandera."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest

from bot.cli import main

DATA = pd.DataFrame(
    {
        "age": [30, -4, 200, 41, -1],
        "city": ["paris", "lyon", "rome", "oslo", "paris"],
        "score": [0.1, None, 0.5, 1.7, 0.2],
        "id": [1, 2, 2, 3, 4],
    }
)
NATIVE = pa.DataFrameSchema(
    {
        "age": pa.Column(int, pa.Check.in_range(0, 120)),
        "city": pa.Column(str, pa.Check.isin(["paris", "lyon"])),
        "score": pa.Column(float, pa.Check.le(1.0), nullable=False),
        "id": pa.Column(int, unique=True),
        "label": pa.Column(int),
    },
    strict=True,
    name="people",
)
MLBOT = """\
schema: mlbot/contract/v1
rows: {min: 6}
allow_extra_columns: false
columns:
  age: {dtype: int, min: 0, max: 120}
  city: {dtype: string, allowed: [paris, lyon]}
  score: {dtype: float, max: 1, max_null_share: 0.1}
  id: {dtype: int}
"""


def validate(capsys, *args: str) -> tuple[int, dict | str]:
    capsys.readouterr()
    code = main(["validate", *args])
    out = capsys.readouterr()
    try:
        return code, json.loads(out.out)
    except json.JSONDecodeError:
        return code, out.out + out.err


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    DATA.to_csv(path, index=False)
    return path


def pandera_cases(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> int:
    with pytest.raises(pa.errors.SchemaErrors) as err:
        schema.validate(frame, lazy=True)
    return len(err.value.failure_cases)


def test_a_pandera_yaml_schema_reports_every_failure_case(tmp_path, table, capsys):
    contract = tmp_path / "people.yaml"
    contract.write_text(NATIVE.to_yaml())
    code, report = validate(
        capsys, "--repo", str(tmp_path), "--contract", str(contract), "--json", str(table)
    )
    assert code == 1
    found = {(v["column"], v["rule"], v["count"]) for v in report["violations"]}
    assert found == {
        ("age", "in_range", 3),
        ("city", "allowed", 2),
        ("score", "nullable", 1),
        ("score", "max", 1),
        ("id", "unique", 2),
        ("label", "required", 0),
    }
    by = {(v["column"], v["rule"]): v for v in report["violations"]}
    assert by[("age", "in_range")]["examples"] == ["-4", "200", "-1"]
    # Each failure case with the row it is in, as Pandera found it.
    assert by[("age", "in_range")]["cases"] == [
        {"row": 1, "value": "-4"},
        {"row": 2, "value": "200"},
        {"row": 4, "value": "-1"},
    ]
    assert by[("city", "allowed")]["examples"] == ["rome", "oslo"]
    # Nothing Pandera found is lost: one failure case per value, plus the missing column.
    frame = pd.read_csv(table)
    assert sum(max(v["count"], 1) for v in report["violations"]) == pandera_cases(NATIVE, frame)


def test_a_python_module_exposing_a_schema_or_a_model(tmp_path, table, capsys):
    module = tmp_path / "contract.py"
    module.write_text(
        "import pandera.pandas as pa\n"
        "helper = 3\n"
        "schema = pa.DataFrameSchema({'age': pa.Column(int, pa.Check.ge(0))})\n"
    )
    code, report = validate(
        capsys, "--repo", str(tmp_path), "--contract", str(module), "--json", str(table)
    )
    assert code == 1
    assert [(v["column"], v["rule"], v["examples"]) for v in report["violations"]] == [
        ("age", "min", ["-4", "-1"])
    ]
    model = tmp_path / "model.py"
    model.write_text(
        "import pandera.pandas as pa\n"
        "from pandera.typing import Series\n"
        "class People(pa.DataFrameModel):\n"
        "    city: Series[str] = pa.Field(isin=['paris', 'lyon', 'rome', 'oslo'])\n"
        "    id: Series[int] = pa.Field(ge=1)\n"
    )
    code, report = validate(
        capsys, "--repo", str(tmp_path), "--contract", str(model), "--json", str(table)
    )
    assert (code, report["violations"]) == (0, [])


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("two.py", "import pandera.pandas as pa\na = b = pa.DataFrameSchema()\n", "found: a, b"),
        ("boom.py", "raise RuntimeError('no')\n", "failed to import: RuntimeError: no"),
        ("bad.yaml", "schema_type: dataframe\ncolumns: {a: {dtype: nosuchtype}}\n",
         "is not a valid pandera schema"),
        ("odd.yaml", "columns: {a: {dtype: decimal}}\n", "columns.a.dtype"),
    ],
)  # fmt: skip
def test_a_broken_contract_is_a_clear_input_error(tmp_path, table, capsys, name, text, message):
    contract = tmp_path / name
    contract.write_text(text)
    code, out = validate(capsys, "--repo", str(tmp_path), "--contract", str(contract), str(table))
    assert code == 2
    assert message in out


def test_the_mlbot_format_is_exported_as_a_pandera_schema_that_judges_the_same(
    tmp_path, table, capsys
):
    contract = tmp_path / "contract.yaml"
    contract.write_text(MLBOT)
    base = ["--repo", str(tmp_path)]
    code, ours = validate(capsys, *base, "--contract", str(contract), "--json", str(table))
    assert code == 1
    assert {(v["column"], v["rule"]) for v in ours["violations"]} == {
        (None, "rows.min"),
        ("age", "min"),
        ("age", "max"),
        ("city", "allowed"),
        ("score", "max_null_share"),
        ("score", "max"),
    }
    exported = tmp_path / "pandera.yaml"
    assert (
        main(["validate", *base, "--contract", str(contract), "--export-pandera", str(exported)])
        == 0
    )
    import pandera.io.pandas_io as pandas_io

    from bot.ml.pandera_checks import register

    register()  # the export uses mlbot's registered checks (column kinds, null share, rows)
    schema = pandas_io.from_yaml(exported.read_text())
    assert schema.strict is True and set(schema.columns) == {"age", "city", "score", "id"}
    code, theirs = validate(capsys, *base, "--contract", str(exported), "--json", str(table))
    assert (code, theirs["violations"]) == (1, ours["violations"])


def test_failure_cases_cannot_forge_workflow_commands_or_mention_people(
    tmp_path, capsys, monkeypatch
):
    data = tmp_path / "evil.csv"
    pd.DataFrame({"city": ["paris", "x\n::warning::forged", "@octocat | <b>"]}).to_csv(
        data, index=False
    )
    contract = tmp_path / "c.yaml"
    contract.write_text("columns: {city: {dtype: string, allowed: [paris]}}\n")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    capsys.readouterr()
    assert main(["validate", "--repo", str(tmp_path), "--contract", str(contract), str(data)]) == 1
    out = capsys.readouterr().out
    commands = [line for line in out.splitlines() if line.startswith("::")]
    assert len(commands) == 1 and commands[0].startswith("::error file=evil.csv,title=allowed")
    assert "%0A::warning::forged" in commands[0]
    text = summary.read_text()
    assert "forged" in text and "@octocat" not in text and "<b>" not in text
    row = next(line for line in text.splitlines() if "allowed" in line)
    assert row.count(" | ") == 5  # six cells: the data's pipe is escaped
