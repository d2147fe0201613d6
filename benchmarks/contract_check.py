"""Data-contract checking on Pandera: mlbot's contract translated, beside its baselines.

Checks one table (--rows rows, seven columns, 1% bad values in each) three ways,
in the same run, round-robin:

- `mlbot`: an mlbot/contract/v1 contract, translated and run by Pandera
  (`bot.ml.contract.check`, what `mlbot validate` does);
- `pandera`: the equivalent schema a Pandera user writes with Pandera's own
  dtypes and checks (the engine's cost without mlbot's extension checks);
- `hand-written`: the checker mlbot had before Pandera (bot/ml/contract.py at
  --old-rev, loaded from git history), if that revision is in the repository.

Prints the median wall time of each, its ratio to `pandera`, and how many
violations each found (the hand-written one and mlbot's must agree).

    .venv/bin/python benchmarks/contract_check.py [--rows 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONTRACT = """\
schema: mlbot/contract/v1
rows: {min: 10}
columns:
  age: {dtype: int, min: 0, max: 120}
  income: {dtype: float, min: 0, max_null_share: 0.05}
  city: {dtype: string, allowed: [paris, lyon, nice, lille]}
  score: {dtype: float, min: 0, max: 1}
  label: {dtype: int, allowed: [0, 1]}
  visits: {dtype: int, min: 0}
  note: {dtype: string, required: false, max_null_share: 1}
"""


def table(rows: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "age": rng.integers(0, 100, rows),
            "income": rng.uniform(0, 1e5, rows),
            "city": rng.choice(["paris", "lyon", "nice", "lille"], rows),
            "score": rng.uniform(0, 1, rows),
            "label": rng.integers(0, 2, rows),
            "visits": rng.integers(0, 50, rows),
        }
    )
    bad = rng.choice(rows, rows // 100, replace=False)
    frame.loc[bad, "age"] = -1
    frame.loc[bad[: len(bad) // 2], "income"] = None
    frame.loc[bad, "city"] = "berlin"
    frame.loc[bad, "score"] = 1.5
    frame.loc[bad, "label"] = 2
    return frame


def native_schema():
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            "age": pa.Column(int, pa.Check.in_range(0, 120)),
            "income": pa.Column(float, pa.Check.ge(0), nullable=True),
            "city": pa.Column(str, pa.Check.isin(["paris", "lyon", "nice", "lille"])),
            "score": pa.Column(float, pa.Check.in_range(0, 1)),
            "label": pa.Column(int, pa.Check.isin([0, 1])),
            "visits": pa.Column(int, pa.Check.ge(0)),
            "note": pa.Column(str, required=False, nullable=True),
        }
    )


def old_checker(rev: str):
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:bot/ml/contract.py"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return None
    path = Path("/tmp") / f"mlbot_old_contract_{rev}.py"
    path.write_text(proc.stdout)
    spec = importlib.util.spec_from_file_location("mlbot_old_contract", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mlbot_old_contract"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old-rev", default="c30da5e", help="a revision with the old checker")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import pandera.pandas as pa

    from bot.ml.contract import check, parse_contract, to_pandera

    frame = table(args.rows)
    contract = parse_contract(CONTRACT, "bench")
    translated = to_pandera(contract)
    native = native_schema()
    ways = {
        "mlbot": lambda: len(check(frame, translated, "t")),
        "pandera": lambda: _native_cases(native, frame, pa),
    }
    old = old_checker(args.old_rev)
    if old is not None:
        old_contract = old.parse_contract(CONTRACT, "bench")
        ways["hand-written"] = lambda: len(old.check(frame, old_contract, "t"))
    times: dict[str, list[float]] = {name: [] for name in ways}
    found: dict[str, int] = {}
    for name, way in ways.items():  # warm-up
        found[name] = way()
    for _ in range(args.runs):
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["pandera"])
    print(f"{args.rows} rows x 7 columns, median of {args.runs} runs")
    print(f"{'checker':<14}{'seconds':>10}{'vs pandera':>12}{'found':>8}")
    for name, taken in times.items():
        med = statistics.median(taken)
        print(f"{name:<14}{med:>10.3f}{med / base:>11.2f}x{found[name]:>8}")
    if old is None:
        print(f"(the hand-written checker is not at {args.old_rev} here: not measured)")


def _native_cases(schema, frame, pa) -> int:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return len(exc.schema_errors)
    return 0


if __name__ == "__main__":
    main()
