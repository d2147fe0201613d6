"""Drift at scale: Evidently's DataDriftPreset vs `mlbot drift` vs SciPy alone, every row, one run.

Each measurement runs in its own process, so its peak RSS (ru_maxrss) is its
own; CPU time (process_time, all threads) is printed beside wall time because
wall time swings with whatever else the shared machine runs (its load average
is printed before and after). Imports and data generation are outside the
timed part, identically for every row. Printed side by side, on the same
frames (16 numeric columns, a third of them shifted, and 4 categorical ones):

- frame-only       generating the two frames, no drift: the memory floor
- evidently        Evidently's DataDriftPreset (its report and tests) on every row: the baseline
- mlbot            mlbot's drift on the same in-memory frames, every row (the default policy)
- mlbot-parquet    mlbot's drift reading the same data from Parquet files, column by column
- scipy-floor      the SciPy call of each column's test (Wasserstein distance, Jensen-Shannon)
                   on the same NumPy arrays, nothing else: the floor mlbot is held to

Verdicts (per column: test, score, drifted) are compared between the rows that
have them; the targets are checked and printed.

Usage: python benchmarks/drift_scale.py [--rows 1000000] [--columns 20] [--only MODE]...
       python benchmarks/drift_scale.py --rows 10000000 --only mlbot-parquet   # the 10M target
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Measure this checkout's code, not a copy of mlbot installed in the environment.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = ("frame-only", "evidently", "mlbot", "mlbot-parquet", "scipy-floor")
TARGETS_1M = {"cpu": 15.0, "floor_ratio": 2.0, "peak_mb": 1024}
TARGETS_10M = {"cpu": 150.0, "peak_mb": 2048}


def make_frames(rows: int, columns: int):
    import numpy as np
    import pandas as pd

    n_cat = max(1, columns // 5)
    n_num = columns - n_cat

    def frame(shift: float, seed: int) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        data = {}
        for i in range(n_num):
            loc = shift if i < n_num // 3 else 0.0  # a third of the numeric columns drift
            data[f"num_{i:02d}"] = r.normal(loc=loc, scale=1.0, size=rows)
        for j in range(n_cat):
            p = [0.3, 0.25, 0.2, 0.15, 0.1] if j or not shift else [0.1, 0.15, 0.2, 0.25, 0.3]
            data[f"cat_{j}"] = pd.Categorical(r.choice(["a", "b", "c", "d", "e"], size=rows, p=p))
        return pd.DataFrame(data)

    return frame(0.0, 1), frame(0.25, 2)


def write_parquet(rows: int, columns: int, directory: Path) -> None:
    ref, cur = make_frames(rows, columns)
    ref.to_parquet(directory / "reference.parquet", index=False, row_group_size=1_000_000)
    cur.to_parquet(directory / "current.parquet", index=False, row_group_size=1_000_000)


def scipy_floor(ref, cur) -> list[dict]:
    """Each column's test straight from SciPy on NumPy arrays (the method known in advance)."""
    import numpy as np
    from scipy import stats
    from scipy.spatial import distance

    out = []
    for name in ref.columns:
        r, c = ref[name], cur[name]
        if name.startswith("num_"):
            a, b = r.to_numpy(), c.to_numpy()
            score = float(stats.wasserstein_distance(a, b) / max(float(np.std(a)), 0.001))
            test = "wasserstein"
        else:
            k = len(r.cat.categories)
            p = np.bincount(r.cat.codes.to_numpy(), minlength=k) / len(r)
            q = np.bincount(c.cat.codes.to_numpy(), minlength=k) / len(c)
            score, test = float(distance.jensenshannon(p, q)), "jensenshannon"
        out.append({"column": name, "test": test, "score": score, "drifted": bool(score >= 0.1)})
    return out


def evidently_preset(ref, cur) -> list[dict]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    data = (
        Report([DataDriftPreset()], include_tests=True)
        .run(current_data=cur, reference_data=ref)
        .dict()
    )
    failed = {
        t["metric_config"]["metric_id"]: t["status"] == "FAIL"
        for t in data["tests"]
        if t.get("metric_config", {}).get("metric_id")
    }
    return [
        {
            "column": m["config"]["column"],
            "test": m["config"]["method"],
            "score": float(m["value"]),
            "drifted": failed[m["id"]],
        }
        for m in data["metrics"]
        if m["config"]["type"].endswith("ValueDrift")
    ]


def child(mode: str, rows: int, columns: int, directory: Path) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    # Every mode imports the same libraries before the clock starts.
    import evidently.legacy.calculations.stattests  # noqa: F401
    import scipy.stats  # noqa: F401
    from evidently import Report  # noqa: F401
    from evidently.presets import DataDriftPreset  # noqa: F401

    import bot
    from bot.ml.drift import detect, opened
    from bot.policy.schema import DriftPolicy

    assert Path(bot.__file__).resolve().parents[1] == Path(__file__).resolve().parents[1]
    if mode == "write-parquet":
        write_parquet(rows, columns, directory)
        return {"mode": mode}
    ref = cur = None
    if mode != "mlbot-parquet":
        ref, cur = make_frames(rows, columns)
    policy = DriftPolicy()  # the default policy: every row
    start, cpu = time.perf_counter(), time.process_time()
    verdicts = None
    if mode == "evidently":
        verdicts = evidently_preset(ref, cur)
    elif mode == "mlbot":
        verdicts = detect(ref, cur, policy)["columns"]
    elif mode == "mlbot-parquet":
        with opened(directory / "reference.parquet", directory / "current.parquet") as (r, c):
            verdicts = detect(r, c, policy)["columns"]
    elif mode == "scipy-floor":
        verdicts = scipy_floor(ref, cur)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    if verdicts is not None and mode.startswith("mlbot"):
        verdicts = [
            {k: v[k] for k in ("column", "test", "method", "score", "drifted")} for v in verdicts
        ]
    return {
        "mode": mode,
        "seconds": seconds,
        "cpu": cpu_seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "verdicts": verdicts,
    }


def run_child(mode: str, args: argparse.Namespace, directory: Path) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--rows", str(args.rows)]
    command += ["--columns", str(args.columns), "--dir", str(directory)]
    proc = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode}: failed\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def same_verdicts(a: list[dict], b: list[dict], *, names_only: bool = False) -> str:
    """'identical' or the first difference: per column, the test, the score and the flag."""
    by_a = {v["column"]: v for v in a}
    by_b = {v["column"]: v for v in b}
    if set(by_a) != set(by_b):
        return f"different columns: {sorted(set(by_a) ^ set(by_b))}"
    for name, va in sorted(by_a.items()):
        vb = by_b[name]
        if va["drifted"] != vb["drifted"]:
            return f"{name}: drifted {va['drifted']} vs {vb['drifted']}"
        if abs(va["score"] - vb["score"]) > 1e-6 * max(1.0, abs(vb["score"])):
            return f"{name}: score {va['score']!r} vs {vb['score']!r}"
        if not names_only and va.get("method", va["test"]) != vb.get("method", vb["test"]):
            return f"{name}: test {va.get('method')} vs {vb.get('method')}"
    return "identical"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--only", choices=MODES, action="append", help="repeatable")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.columns, args.dir)))
        return 0
    modes = args.only or list(MODES)
    print(f"drift at scale: {args.rows:,} rows x {args.columns} columns, reference and current")
    print(f"  before: {load()}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="drift-scale-") as tmp:
        if "mlbot-parquet" in modes:
            run_child("write-parquet", args, Path(tmp))
            size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
            print(f"  (wrote both frames as Parquet, {size:,.0f} MB, not timed)")
        for mode in modes:
            r = results[mode] = run_child(mode, args, Path(tmp))
            drifted = ""
            if r["verdicts"] is not None:
                count = sum(1 for v in r["verdicts"] if v["drifted"])
                drifted = f"  drifted {count} of {len(r['verdicts'])}"
            print(
                f"  {mode:<14} {r['seconds']:8.2f} s wall {r['cpu']:8.2f} s CPU   "
                f"peak RSS {r['peak_mb']:7.0f} MB{drifted}",
                flush=True,
            )
    print(f"  after:  {load()}")
    return report(results, args.rows)


def report(results: dict[str, dict], rows: int) -> int:
    ok = True

    def check(label: str, passed: bool) -> None:
        nonlocal ok
        ok = ok and passed
        print(f"  [{'ok' if passed else 'MISSED'}] {label}")

    print("targets:")
    big = rows >= 10_000_000
    if "mlbot" in results and "evidently" in results:
        verdict = same_verdicts(results["mlbot"]["verdicts"], results["evidently"]["verdicts"])
        check(
            f"mlbot's verdicts vs Evidently's DataDriftPreset, every column: {verdict}",
            verdict == "identical",
        )
        m, e = results["mlbot"], results["evidently"]
        print(
            f"  mlbot vs Evidently: {m['cpu']:.1f} s vs {e['cpu']:.1f} s CPU "
            f"({e['cpu'] / m['cpu']:.1f}x less), peak RSS {m['peak_mb']:.0f} vs "
            f"{e['peak_mb']:.0f} MB"
        )
    if "mlbot-parquet" in results and "mlbot" in results:
        verdict = same_verdicts(results["mlbot-parquet"]["verdicts"], results["mlbot"]["verdicts"])
        check(f"mlbot from Parquet vs mlbot on the frames: {verdict}", verdict == "identical")
    if "scipy-floor" in results and "mlbot" in results:
        verdict = same_verdicts(
            results["scipy-floor"]["verdicts"], results["mlbot"]["verdicts"], names_only=True
        )
        print(f"  (the SciPy floor's scores and flags vs mlbot's: {verdict})")
    for mode in ("mlbot", "mlbot-parquet"):
        if mode not in results:
            continue
        r = results[mode]
        targets = TARGETS_10M if big else TARGETS_1M
        check(f"{mode} CPU {r['cpu']:.1f} s <= {targets['cpu']:.0f} s", r["cpu"] <= targets["cpu"])
        check(
            f"{mode} peak RSS {r['peak_mb']:.0f} MB <= {targets['peak_mb']} MB",
            r["peak_mb"] <= targets["peak_mb"],
        )
        if "scipy-floor" in results and not big:
            ratio = r["cpu"] / results["scipy-floor"]["cpu"]
            check(
                f"{mode} CPU {ratio:.2f}x the SciPy floor's <= {TARGETS_1M['floor_ratio']}x",
                ratio <= TARGETS_1M["floor_ratio"],
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
