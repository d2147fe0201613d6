import pandas as pd
import pytest

from bot.errors import InputError
from bot.ml.tabular import read_table, write_table


def test_csv_and_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for name in ("t.csv", "t.parquet"):
        write_table(frame, tmp_path / name)
        assert read_table(tmp_path / name).equals(frame)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.csv", None, "does not exist"),
        ("empty.csv", b"", "is empty"),
        ("blank.csv", b"\n\n", "is empty"),
        ("bad.parquet", b"not parquet at all", "cannot be read as parquet"),
        ("data.xlsx", b"x", "unsupported data format"),
    ],
)
def test_unreadable_files_are_input_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path)
