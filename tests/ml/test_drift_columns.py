"""The column readers behind `mlbot drift`: one behaviour over a DataFrame, Parquet and CSV.

Every backend must hand out each column as pandas' own reader would hold it
(values and dtype, which decides Evidently's column type), one column at a time.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.errors import InputError
from bot.ml.columns import FrameColumns, frame_of, open_columns, sample_rows


def table(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "f": rng.normal(size=n),
            "f_nulls": np.where(rng.random(n) < 0.2, np.nan, 1.5),
            "i": rng.integers(-5, 5, n),
            "b": rng.random(n) < 0.5,
            "s": rng.choice(["x", "y"], n),
            "s_nulls": np.where(rng.random(n) < 0.2, None, "z").astype(object),
            "empty": np.full(n, np.nan),
        }
    )


@pytest.fixture(params=["frame", "parquet", "csv"])
def written(request, tmp_path: Path):
    """(how pandas reads it, a function opening our reader) for the same table."""
    frame = table()
    if request.param == "frame":
        return frame, lambda: contextlib.nullcontext(FrameColumns(frame, "reference"))
    path = tmp_path / f"t.{request.param}"
    if request.param == "csv":
        frame.to_csv(path, index=False)
        read = pd.read_csv(path)
    else:
        frame.to_parquet(path, index=False, row_group_size=16)  # columns read group by group
        read = pd.read_parquet(path)
    return read, lambda: open_columns(path, "reference")


def test_every_column_is_what_pandas_reads(written):
    expected, open_ = written
    with open_() as columns:
        assert columns.names == list(expected.columns) and columns.rows == len(expected)
        for name in columns.names:
            column = columns.column(name)
            assert column.dtype == expected[name].dtype.name, name
            pd.testing.assert_series_equal(
                column.as_read().reset_index(drop=True),
                expected[name],
                check_names=False,
                check_dtype=False,
            )
        # A sample is the same rows of every column, built one column at a time.
        rows = sample_rows(columns.rows, 20, seed=0)
        sample = frame_of(columns, columns.names, rows)
    assert len(sample) == 20 and list(rows) == sorted(set(rows))
    pd.testing.assert_frame_equal(
        sample, expected.iloc[rows].reset_index(drop=True), check_dtype=False
    )


def test_a_csv_whose_type_changes_after_the_first_block_is_read_as_pandas_reads_it(
    tmp_path: Path, monkeypatch
):
    import bot.ml.columns

    monkeypatch.setattr(bot.ml.columns, "CSV_BLOCK", 64)  # pyarrow types from the first block
    path = tmp_path / "late.csv"
    path.write_text("n,s\n" + "".join(f"{i},a\n" for i in range(40)) + "1.5,b\n")
    with open_columns(path) as columns:
        column = columns.column("n")
    assert column.dtype == "float64" and column.values.iloc[-1] == 1.5


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "does not exist"),
        ("empty.csv", b"", "is empty"),
        ("bad.parquet", b"not parquet at all", "cannot be read as parquet"),
        ("dup.csv", b"a,a\n1,2\n", "two columns of the same name"),
        ("data.txt", b"a\n1\n", "unsupported data format"),
    ],
)
def test_bad_files_are_input_errors(tmp_path: Path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message), open_columns(path, "current"):
        pass
