"""Reading the CSV and Parquet files the ML steps work on, with one clear error each."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unsupported data format; give a .csv or .parquet file.")
    return fmt


def read_table(path: Path | str, what: str = "data") -> pd.DataFrame:
    """The file as a DataFrame; a missing, empty or malformed file is an InputError."""
    import pandas as pd

    path = Path(path)
    fmt = table_format(path)
    if not path.is_file():
        raise InputError(f"{what} file {path} does not exist.")
    if path.stat().st_size == 0:
        raise InputError(f"{what} file {path} is empty.")
    try:
        frame = pd.read_csv(path, low_memory=False) if fmt == "csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} file {path} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{what} file {path} cannot be read as {fmt}: {first}") from None
    if len(frame.columns) == 0:
        raise InputError(f"{what} file {path} has no columns.")
    return frame


def write_table(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if table_format(path) == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
