"""Tables read one column at a time, each column as pandas would hold it after reading the file.

Drift is judged column by column, so nothing needs the whole frame in memory:
a Parquet file gives one column per read (pyarrow), and a CSV file is parsed
once in blocks (pyarrow) into a temporary Parquet file read the same way. A
DataFrame already in memory hands out its columns without copying them.

Each column comes with the dtype pandas' own reader (`pd.read_csv`,
`pd.read_parquet`) would give it, because Evidently picks a column's type,
and so its test, from that dtype. Strings are held as pandas Categoricals
(codes and one copy of each distinct value, not a Python object per row); the
dtype still says `object`, as pandas would read them.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import InputError
from bot.ml.tabular import table_format

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

# pandas.read_csv's default missing-value strings, so both readers see the same nulls.
PANDAS_NA = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]
PANDAS_TRUE, PANDAS_FALSE = ["True", "TRUE", "true"], ["False", "FALSE", "false"]
CSV_BLOCK = 1 << 24  # pyarrow infers a CSV column's type from the first block: make it large


@dataclass(frozen=True)
class Column:
    name: str
    values: pd.Series  # nulls included; strings as a Categorical
    dtype: str  # the dtype name pandas' reader gives this column

    @property
    def strings_as_categories(self) -> bool:
        return self.dtype in ("object", "string", "str") and str(self.values.dtype) == "category"

    def take(self, rows: np.ndarray) -> Column:
        return Column(self.name, self.values.iloc[rows].reset_index(drop=True), self.dtype)

    def as_read(self) -> pd.Series:
        """The column exactly as pandas would have read it (strings as Python objects)."""
        if self.strings_as_categories:
            return self.values.astype(object)
        return self.values


class Columns(Protocol):
    """A table read one column at a time."""

    what: str  # "reference" or "current", for messages
    names: list[str]
    rows: int

    def column(self, name: str) -> Column: ...


class FrameColumns:
    """Columns of a DataFrame already in memory, handed out without a copy."""

    def __init__(self, frame: pd.DataFrame, what: str = "data") -> None:
        if len(frame.columns) != len(set(map(str, frame.columns))):
            raise InputError(f"the {what} data has two columns of the same name.")
        self.frame, self.what = frame, what
        self.names = [str(c) for c in frame.columns]
        self._by_name = {str(c): c for c in frame.columns}
        self.rows = len(frame)

    def column(self, name: str) -> Column:
        series = self.frame[self._by_name[name]]
        return Column(name, series, series.dtype.name)


class ParquetColumns:
    """A Parquet file, one column per read."""

    def __init__(self, path: Path, what: str = "data") -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path, self.what = path, what
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"{what} file {path} cannot be read as parquet: {_first(exc)}"
            ) from None
        schema = self._file.schema_arrow
        self.names = list(schema.names)
        if len(self.names) != len(set(self.names)):
            raise InputError(f"{what} file {path} has two columns of the same name.")
        self.rows = self._file.metadata.num_rows
        # pandas restores dtypes (Int64, category, …) from the metadata pandas wrote; an empty
        # table converted by pyarrow the way pd.read_parquet does tells them without the data.
        empty = schema.empty_table().to_pandas()
        self._dtypes = {str(c): empty[c].dtype.name for c in empty.columns}

    def column(self, name: str) -> Column:
        import pyarrow as pa

        try:
            numbers = self._numbers(name)
            if numbers is not None:
                return numbers
            table = self._file.read(columns=[name], use_pandas_metadata=False)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(
                f"{self.what} file {self.path}: column {name!r} cannot be read: {_first(exc)}"
            ) from None
        return from_arrow(name, table.column(0), self._dtypes.get(name))

    def _numbers(self, name: str) -> Column | None:
        """A numeric column copied row group by row group into one NumPy array; None if not one.

        Reading the whole column and converting it would hold it twice (Arrow's copy and
        pandas'); this holds it once, plus one row group.
        """
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        kind = self._file.schema_arrow.field(name).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            return None
        dtype = self._dtypes.get(name, "")
        if dtype != kind.to_pandas_dtype().__name__:  # e.g. pandas' nullable Int64
            return None
        out = np.empty(self.rows, dtype=dtype)
        at = 0
        for group in range(self._file.num_row_groups):
            part = self._file.read_row_group(group, columns=[name]).column(0)
            if part.null_count and not pa.types.is_floating(kind):
                return None  # integers with nulls become floats in pandas: the general path
            out[at : at + len(part)] = part.to_numpy()
            at += len(part)
        return Column(name, pd.Series(out, copy=False), dtype)


def from_arrow(name: str, data: pa.ChunkedArray, dtype: str | None = None) -> Column:
    """One Arrow column as pandas would hold it; `dtype` is the one pandas' metadata restores."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    kind = data.type
    if pa.types.is_null(kind):  # an empty column: pandas reads it as floats, all NaN
        return Column(name, pd.Series(np.full(len(data), np.nan)), "float64")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = data.combine_chunks().dictionary_encode() if len(data) else data
        values = encoded.to_pandas() if len(data) else pd.Series([], dtype=object)
        shown = dtype if dtype in ("string", "str") else "object"
        return Column(name, pd.Series(values, copy=False), shown)
    values = data.to_pandas()
    shown = dtype or values.dtype.name
    # A numpy int or bool column with nulls becomes float64 or object, in pandas as here.
    if data.null_count and shown.startswith(("int", "uint", "bool")):
        shown = values.dtype.name
    return Column(name, values, shown)


@contextlib.contextmanager
def open_columns(path: Path | str, what: str = "data") -> Iterator[Columns]:
    """The CSV or Parquet file at `path`, column by column; bad files are InputErrors."""
    path = Path(path)
    fmt = table_format(path)
    if not path.is_file():
        raise InputError(f"{what} file {path} does not exist.")
    if path.stat().st_size == 0:
        raise InputError(f"{what} file {path} is empty.")
    if fmt == "parquet":
        columns: Columns = ParquetColumns(path, what)
        _check_not_empty(columns, path, what)
        yield columns
        return
    with tempfile.TemporaryDirectory(prefix="mlbot-columns-") as tmp:
        spooled = Path(tmp) / "table.parquet"
        if _csv_to_parquet(path, spooled, what):
            columns = ParquetColumns(spooled, what)
        else:
            columns = FrameColumns(_read_csv_with_pandas(path, what), what)
        _check_not_empty(columns, path, what)
        yield columns


def _check_not_empty(columns: Columns, path: Path, what: str) -> None:
    if not columns.names:
        raise InputError(f"{what} file {path} has no columns.")


def _csv_to_parquet(path: Path, out: Path, what: str) -> bool:
    """The CSV parsed in blocks into a Parquet file; False if pyarrow cannot type it as pandas.

    pyarrow types a column from the first block, pandas from the whole column: a later
    block that breaks the first one's type (say, a float after a million ints) is left
    to pandas, which reads the whole frame at once.
    """
    import pyarrow as pa
    import pyarrow.csv as csv
    import pyarrow.parquet as pq

    read = csv.ReadOptions(block_size=CSV_BLOCK)
    convert = csv.ConvertOptions(
        null_values=PANDAS_NA,
        strings_can_be_null=True,
        true_values=PANDAS_TRUE,
        false_values=PANDAS_FALSE,
        timestamp_parsers=[],
    )
    try:
        with csv.open_csv(path, read_options=read, convert_options=convert) as reader:
            schema = reader.schema
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise InputError(f"{what} file {path} is empty.") from None
        raise InputError(f"{what} file {path} cannot be read as csv: {_first(exc)}") from None
    names = list(schema.names)
    if len(names) != len(set(names)):
        raise InputError(f"{what} file {path} has two columns of the same name.")
    # pandas reads dates and times in a CSV as strings: so does this reader.
    plain = (pa.int64(), pa.float64(), pa.bool_(), pa.string(), pa.null())
    types = {f.name: pa.string() for f in schema if f.type not in plain}
    convert.column_types = types
    try:
        with (
            csv.open_csv(path, read_options=read, convert_options=convert) as reader,
            pq.ParquetWriter(out, reader.schema, compression="snappy") as writer,
        ):
            for batch in reader:
                writer.write_batch(batch)
    except pa.ArrowInvalid:
        return False
    return True


def _read_csv_with_pandas(path: Path, what: str) -> pd.DataFrame:
    from bot.ml.tabular import read_table

    return read_table(path, what)


def sample_rows(rows: int, limit: int | None, seed: int) -> np.ndarray | None:
    """Row positions of a uniform sample of `limit` rows (sorted), or None to use every row."""
    if limit is None or rows <= limit:
        return None
    import numpy as np

    return np.sort(np.random.default_rng(seed).choice(rows, size=limit, replace=False))


def frame_of(columns: Columns, names: Sequence[str], rows: np.ndarray | None) -> pd.DataFrame:
    """The named columns (at the given rows) as a DataFrame, built one column at a time."""
    import pandas as pd

    data: dict[str, Any] = {}
    for name in names:
        column = columns.column(name)
        if rows is not None:
            column = column.take(rows)
        data[name] = column.as_read().reset_index(drop=True)
    return pd.DataFrame(data)


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
