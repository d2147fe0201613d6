"""benchmarks/webhook_load.py, run tiny so it never rots (figures are printed, not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "webhook_load.py"


def test_the_webhook_benchmark_measures_every_server_and_waits_for_the_workers():
    args = ["--requests", "40", "--rounds", "1", "--warmup", "10", "--concurrency", "4"]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split("  ")[0].strip(): line for line in proc.stdout.splitlines()}
    for server in (
        "bare FastAPI 202",
        "mlbot serve",
        "mlbot serve, sync=normal",
        "mlbot serve, unhandled",
    ):
        assert server in rows, proc.stdout
    assert "drain s" in proc.stdout and "CPU us/req" in proc.stdout
    assert "targets: p99 < 25 ms; throughput >= 70 % of the bare endpoint" in proc.stdout
