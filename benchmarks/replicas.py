"""Several replicas on PostgreSQL: job throughput, and acknowledgements under load.

In one run, on loopback, against a PostgreSQL the benchmark starts itself
(initdb + pg_ctl, fsync on) and an SQLite store:

1. Jobs per second when every job makes 3 GitHub calls of 100 ms each (a
   "GitHub" on loopback that answers after 100 ms): one replica on
   PostgreSQL, three replicas on PostgreSQL (deliveries spread over them),
   one replica on SQLite. Target: three replicas >= 2.5 x one.
2. Webhook acknowledgement latency (signed `ping` deliveries, concurrency 16,
   as `benchmarks/webhook_load.py` sends them) while every worker is busy
   with a backlog of those slow jobs, on both backends, beside the same
   servers with idle workers. The replicas of one comparison run side by
   side and their rounds alternate, so the machine's other load falls on
   all of them alike: SQLite is the baseline measured in the same run.
   Target: p99 < 25 ms.

Each replica runs as `mlbot serve` does (uvicorn, a queue-writer and a worker
process, MLBOT_WORKERS=4), with this module's router: `issue_comment` makes
the three calls, `ping` does nothing.

    .venv/bin/python benchmarks/replicas.py [--jobs N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.webhooks.router import Router  # noqa: E402 (after the path above)

SECRET = "benchmark-secret"  # noqa: S105 (a throwaway for loopback)
CALLS_PER_JOB = 3
CALL_SECONDS = 0.1
WORKERS = 4

router = Router()


_github: list = []
_github_lock = threading.Lock()


@router.register("issue_comment")
def slow_job(event, ctx) -> None:
    # One client for every job, as the bot keeps one per installation.
    with _github_lock:
        if not _github:
            import httpx

            _github.append(httpx.Client(base_url=os.environ["BENCH_GITHUB_URL"], timeout=30))
    for n in range(CALLS_PER_JOB):
        _github[0].get(f"/call/{n}").raise_for_status()


@router.register("ping")
def pong(event, ctx) -> None:
    pass


def make_app():
    from bot.server.app import create_app
    from bot.server.settings import Settings

    return create_app(Settings(), worker_process="benchmarks.replicas:router")


@contextmanager
def slow_github() -> Iterator[str]:
    """Answers every request after CALL_SECONDS, many at once."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            time.sleep(CALL_SECONDS)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def start_replicas(
    count: int, database: str, github: str, tmp: Path, nice: int = 19, sync: str = "full"
) -> list:
    from tests.server.live import BotProcess

    env = {
        "MLBOT_WEBHOOK_SECRET": SECRET,
        "MLBOT_DATABASE": database,
        "MLBOT_WORKERS": str(WORKERS),
        "MLBOT_WORKER_NICE": str(nice),
        "MLBOT_QUEUE_SYNC": sync,
        "MLBOT_LOG_LEVEL": "WARNING",
        "BENCH_GITHUB_URL": github,
        "PYTHONPATH": str(ROOT),
    }
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks.replicas:make_app",
        "--host", "127.0.0.1", "--port", "{port}", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: BotProcess(argv, env, tmp, start_seconds=120), range(count)))


def comment(n: int) -> bytes:
    return json.dumps(
        {
            "action": "created",
            "issue": {"number": n},
            "comment": {"id": n, "body": "benchmark"},
            "repository": {"id": 1, "name": "models", "full_name": "acme/models"},
            "sender": {"login": "alice"},
        }
    ).encode()


def send_jobs(urls: list[str], first: int, count: int) -> None:
    import httpx

    from tests.server.live import signed_headers

    clients = [httpx.Client(base_url=url, timeout=30) for url in urls]

    def post(n: int) -> None:
        body = comment(n)
        headers = signed_headers(body, "issue_comment", f"job-{n}", SECRET)
        status = clients[n % len(clients)].post("/webhook", content=body, headers=headers)
        if status.status_code != 202:
            raise SystemExit(f"delivery job-{n} answered {status.status_code}")

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(post, range(first, first + count)))
    finally:
        for client in clients:
            client.close()


def wait_done(store, expected: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while store.counts()["done"] < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {store.counts()} after {timeout} s")
        time.sleep(0.02)


def throughput(database: str, replicas: int, jobs: int, github: str, tmp: Path) -> float:
    from bot.server.store import make_store

    # Not niced: other work on this shared machine would otherwise starve the jobs.
    running = start_replicas(replicas, database, github, tmp, nice=0)
    store = make_store(database)
    store.open()
    try:
        started = time.perf_counter()
        send_jobs([r.url for r in running], 0, jobs)
        wait_done(store, jobs)
        return jobs / (time.perf_counter() - started)
    finally:
        store.close()
        for r in running:
            r.stop()


def acknowledgements(
    stores: dict[str, tuple[str, str]],
    saturated: bool,
    requests: int,
    rounds: int,
    github: str,
    tmp: Path,
) -> dict[str, tuple[float, float, float, bool]]:
    """Per store (label -> (database, MLBOT_QUEUE_SYNC)): (p50 ms, p99 ms, worst round's
    p99 ms, were the workers busy all along), for ping deliveries.

    One replica per store runs at once, and the rounds alternate between them (the order
    turning each round): on a machine shared with other work, whatever slows one store's
    round slows the others' rounds next to it, so the figures compare.
    """
    from benchmarks.webhook_load import measure
    from bot.server.store import make_store

    labels = list(stores)
    with ThreadPoolExecutor(len(labels)) as pool:
        replicas = dict(
            zip(
                labels,
                pool.map(
                    lambda label: start_replicas(
                        1, stores[label][0], github, tmp, sync=stores[label][1]
                    )[0],
                    labels,
                ),
                strict=True,
            )
        )
    opened = {label: make_store(stores[label][0]) for label in labels}
    for store in opened.values():
        store.open()
    try:
        ports = {label: int(r.url.rsplit(":", 1)[1]) for label, r in replicas.items()}
        for port in ports.values():
            measure(port, 200, 16)  # warm-up
        if saturated:
            # Enough slow jobs to keep every worker busy past the measurement.
            for n, replica in enumerate(replicas.values()):
                send_jobs([replica.url], 100_000 * (n + 1), WORKERS * 60 * rounds)
        latencies: dict[str, list[float]] = {label: [] for label in labels}
        worst: dict[str, float] = dict.fromkeys(labels, 0.0)
        for turn in range(rounds):
            for label in labels[turn % len(labels) :] + labels[: turn % len(labels)]:
                lat, _ = measure(ports[label], requests, 16)
                latencies[label] += lat
                worst[label] = max(worst[label], _p99(lat) * 1000)
        out = {}
        for label in labels:
            busy = opened[label].counts()["queued"] > 0 if saturated else True
            ordered = sorted(latencies[label])
            out[label] = (
                statistics.median(ordered) * 1000,
                _p99(ordered) * 1000,
                worst[label],
                busy,
            )
        return out
    finally:
        for store in opened.values():
            store.close()
        for replica in replicas.values():
            replica.stop()


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=240, help="jobs per throughput run")
    parser.add_argument("--requests", type=int, default=1000, help="pings per latency round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--part", choices=["all", "jobs", "acks"], default="all")
    args = parser.parse_args()

    from tests.server import postgres

    if postgres.binaries() is None:
        raise SystemExit(postgres.missing_reason())
    with (
        tempfile.TemporaryDirectory() as scratch,
        postgres.running(durable=True) as server,
        slow_github() as github,
    ):
        tmp = Path(scratch)
        rates = (
            {}
            if args.part == "acks"
            else {
                "PostgreSQL, 1 replica": throughput(
                    server.create_database(), 1, args.jobs, github, tmp
                ),
                "PostgreSQL, 3 replicas": throughput(
                    server.create_database(), 3, args.jobs, github, tmp
                ),
                "SQLite, 1 replica": throughput(
                    str(tmp / "jobs.sqlite3"), 1, args.jobs, github, tmp
                ),
            }
        )
        acks = {}
        if args.part != "jobs":
            for saturated in (False, True):
                state = "saturated" if saturated else "idle"
                stores = {
                    f"SQLite, workers {state}": (str(tmp / f"ack-{state}.sqlite3"), "full"),
                    f"PostgreSQL, workers {state}": (server.create_database(), "full"),
                }
                if saturated:
                    # What the PostgreSQL figures owe to waiting for the WAL on disk.
                    stores["PostgreSQL, saturated, sync=normal"] = (
                        server.create_database(),
                        "normal",
                    )
                acks.update(
                    acknowledgements(stores, saturated, args.requests, args.rounds, github, tmp)
                )

    if rates:
        print_rates(rates, args.jobs)
    if acks:
        if rates:
            print()
        print_acks(acks, args.rounds, args.requests)
    return 0


def print_rates(rates: dict[str, float], jobs: int) -> None:
    print(
        f"jobs/s: {jobs} jobs of {CALLS_PER_JOB} GitHub calls x {CALL_SECONDS * 1000:.0f} ms,"
        f" {WORKERS} workers per replica, {os.cpu_count()} CPUs"
    )
    one = rates["PostgreSQL, 1 replica"]
    print(f"{'store':<26} {'jobs/s':>8} {'vs 1 replica':>13}")
    for name, rate in rates.items():
        print(f"{name:<26} {rate:>8.1f} {rate / one:>12.2f}x")
    print("target: 3 replicas >= 2.5 x 1 replica (PostgreSQL)")


def print_acks(
    acks: dict[str, tuple[float, float, float, bool]], rounds: int, requests: int
) -> None:
    print(
        f"webhook ack while the workers run: {rounds} rounds x {requests} signed pings,"
        " concurrency 16, one replica per store, rounds alternating between the stores"
    )
    print(f"{'store, workers':<36} {'p50 ms':>8} {'p99 ms':>8} {'worst round p99':>16}")
    for name, (p50, p99, worst, busy) in acks.items():
        note = "" if busy else "  (the backlog ran out before the end)"
        print(f"{name:<36} {p50:>8.2f} {p99:>8.2f} {worst:>16.2f}{note}")
    print("baseline: SQLite in the same run, its rounds alternating with PostgreSQL's")
    print("target: p99 < 25 ms with the workers saturated")


if __name__ == "__main__":
    raise SystemExit(main())
