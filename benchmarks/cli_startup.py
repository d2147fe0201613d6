"""CLI cold start: `mlbot --help` beside `dvc --help` and `gto --help`, in the same run.

Each command runs once as a warm-up (so all three start with the OS page
cache equally warm), then --runs times, round-robin so that any drift in
machine load hits the three alike; the table shows the median wall time of
each and its ratio to dvc. Target: mlbot no slower than dvc.

It then runs `mlbot --help` under `python -X importtime` and prints which
heavy libraries it imported (there should be none) and its costliest imports.

    .venv/bin/python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TOOLS = ("mlbot", "dvc", "gto")
BASELINE = "dvc"
# What `mlbot --help` must never load (the CLI's promise in the design).
HEAVY = ("mlflow", "evidently", "dvc", "sklearn", "pandas", "fastapi", "rich")


def time_once(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return took


def startup_times(runs: int) -> dict[str, list[float]]:
    commands = {tool: [str(BIN / tool), "--help"] for tool in TOOLS}
    for cmd in commands.values():
        if not Path(cmd[0]).exists():
            raise SystemExit(f"{cmd[0]} not found: install the dev extras (`make test` does).")
        time_once(cmd)  # warm-up
    times: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    for _ in range(runs):
        for tool, cmd in commands.items():
            times[tool].append(time_once(cmd))
    return times


def import_profile(args: list[str]) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) for every module `mlbot <args>` imports."""
    script = BIN / "mlbot"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", str(script), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    modules = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        modules.append((name.strip(), int(self_us), int(cumulative_us)))
    return modules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each command")
    parser.add_argument("--top", type=int, default=8, help="costliest imports to list")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    times = startup_times(args.runs)
    medians = {tool: statistics.median(values) for tool, values in times.items()}
    base = medians[BASELINE]
    print(f"cold start, median of {args.runs} run(s) after one warm-up each:")
    print(f"  {'command':<14} {'median':>9} {'min':>9} {'max':>9}  vs {BASELINE}")
    for tool in TOOLS:
        values = times[tool]
        print(
            f"  {tool + ' --help':<14} {medians[tool] * 1000:7.0f}ms {min(values) * 1000:7.0f}ms"
            f" {max(values) * 1000:7.0f}ms  {medians[tool] / base:5.2f}x"
        )
    met = "met" if medians["mlbot"] <= base else "MISSED"
    print(f"target mlbot --help no slower than {BASELINE} --help: {met}")

    modules = import_profile(["--help"])
    names = {name.split(".")[0] for name, _, _ in modules}
    heavy = [m for m in HEAVY if m in names]
    print(f"mlbot --help imports {len(modules)} modules; heavy ones: {', '.join(heavy) or 'none'}")
    total = sum(self_us for _, self_us, _ in modules)
    print(f"  costliest imports (self time; all imports: {total / 1000:.0f} ms):")
    for name, self_us, _ in sorted(modules, key=lambda m: -m[1])[: args.top]:
        print(f"    {self_us / 1000:6.1f} ms  {name}")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main())
