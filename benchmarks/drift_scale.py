"""Drift at scale: mlbot drift vs Evidently's DataDriftPreset on the same 1M x 20 frames.

Each measurement runs in its own process, so peak RSS (ru_maxrss) belongs to
that run alone; CPU time (process_time) is printed beside wall time because
wall time swings with whatever else the machine runs; time covers the drift
computation only (data generation and
imports excluded, identically for every run). Printed side by side:

- evidently-full      Evidently DataDriftPreset directly on the full frames (the baseline)
- mlbot-full          mlbot's drift with sampling off: the same work plus mlbot's own
                      (column alignment, summary, verdict): its overhead over the baseline
- evidently-sampled   Evidently directly on the frames mlbot's policy samples to
- mlbot-policy        mlbot's drift as the default policy runs it (sample_rows=200,000)
- frame-only          generating the frames, no drift: the memory floor

Usage: python benchmarks/drift_scale.py [--rows 1000000] [--columns 20] [--only NAME]...
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

# Measure this checkout's code, not a copy of mlbot installed in the environment.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = ("frame-only", "evidently-full", "mlbot-full", "evidently-sampled", "mlbot-policy")
SAMPLE_ROWS = 200_000


def make_frames(rows: int, columns: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n_cat = max(1, columns // 5)
    n_num = columns - n_cat

    def frame(shift: float, seed: int) -> pd.DataFrame:
        r = np.random.default_rng(seed)
        data = {}
        for i in range(n_num):
            loc = shift if i < n_num // 3 else 0.0  # a third of the numeric columns drift
            data[f"num_{i:02d}"] = r.normal(loc=loc, scale=1.0, size=rows).astype("float64")
        for j in range(n_cat):
            data[f"cat_{j}"] = pd.Categorical(r.choice(["a", "b", "c", "d", "e"], size=rows))
        return pd.DataFrame(data)

    del rng
    return frame(0.0, 1), frame(0.25, 2)


def child(mode: str, rows: int, columns: int) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from evidently import Report
    from evidently.presets import DataDriftPreset

    import bot
    from bot.ml.drift import detect, prepare
    from bot.policy.schema import DriftPolicy

    assert Path(bot.__file__).resolve().parents[1] == Path(__file__).resolve().parents[1]
    ref, cur = make_frames(rows, columns)
    policy = DriftPolicy(sample_rows=SAMPLE_ROWS)
    full = DriftPolicy(sample_rows=None)
    start, cpu = time.perf_counter(), time.process_time()
    drifted = None
    if mode == "evidently-full":
        snap = Report([DataDriftPreset()], include_tests=True).run(
            current_data=cur, reference_data=ref
        )
        drifted = snap.dict()["metrics"][0]["value"]["count"]
    elif mode == "evidently-sampled":
        p = prepare(ref, cur, policy)  # the same sample mlbot draws
        start, cpu = time.perf_counter(), time.process_time()
        snap = Report([DataDriftPreset()], include_tests=True).run(
            current_data=p.current, reference_data=p.reference
        )
        drifted = snap.dict()["metrics"][0]["value"]["count"]
    elif mode == "mlbot-full":
        drifted = detect(ref, cur, full)["drifted_columns"]
    elif mode == "mlbot-policy":
        drifted = detect(ref, cur, policy)["drifted_columns"]
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "mode": mode,
        "seconds": seconds,
        "cpu": cpu_seconds,
        "peak_mb": peak_kib / 1024,
        "drifted": drifted,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--only", choices=MODES, action="append", help="repeatable")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.columns)))
        return 0
    print(f"drift at scale: {args.rows:,} rows x {args.columns} columns, reference and current")
    results = {}
    for mode in args.only or MODES:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--rows",
                str(args.rows),
                "--columns",
                str(args.columns),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            print(f"{mode}: failed\n{proc.stderr[-2000:]}")
            return 1
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[mode]
        drifted = "" if r["drifted"] is None else f"  drifted columns {r['drifted']:g}"
        print(
            f"  {mode:<18} {r['seconds']:8.2f} s wall {r['cpu']:8.2f} s CPU   "
            f"peak RSS {r['peak_mb']:7.0f} MB{drifted}",
            flush=True,
        )
    if {"evidently-full", "mlbot-full"} <= results.keys():
        base, ours = results["evidently-full"], results["mlbot-full"]
        print(
            f"mlbot overhead over Evidently, same rows: time "
            f"{ours['seconds'] / base['seconds'] - 1:+.1%} wall, "
            f"{ours['cpu'] / base['cpu'] - 1:+.1%} CPU; peak RSS "
            f"{ours['peak_mb'] / base['peak_mb'] - 1:+.1%} (target: at most +10%)"
        )
    if {"evidently-sampled", "mlbot-policy"} <= results.keys():
        base, ours = results["evidently-sampled"], results["mlbot-policy"]
        print(
            f"mlbot overhead over Evidently, same {SAMPLE_ROWS:,}-row sample: time "
            f"{ours['seconds'] / base['seconds'] - 1:+.1%} wall, "
            f"{ours['cpu'] / base['cpu'] - 1:+.1%} CPU (mlbot's time includes drawing "
            f"the sample)"
        )
    if {"evidently-full", "mlbot-policy"} <= results.keys():
        base, ours = results["evidently-full"], results["mlbot-policy"]
        print(
            f"mlbot as the default policy runs it vs Evidently on every row: "
            f"{ours['seconds']:.1f} s vs {base['seconds']:.1f} s, peak RSS "
            f"{ours['peak_mb']:.0f} MB vs {base['peak_mb']:.0f} MB (target: under 2,048 MB)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
