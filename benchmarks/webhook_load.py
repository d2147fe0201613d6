"""Webhook acknowledgement latency and throughput: `mlbot serve` against a bare endpoint.

In one run, on loopback, the same N signed deliveries are sent at a fixed
concurrency to
- a bare FastAPI app whose POST /webhook only returns 202 (the baseline), and
- `mlbot serve` (signature check, payload model, durable SQLite group commit,
  its worker process running the ping handler meanwhile).
Both run under the same uvicorn in subprocesses of their own. `mlbot serve`
is measured twice: with the default MLBOT_QUEUE_SYNC=full (an fsync before
every acknowledgement batch) and with MLBOT_QUEUE_SYNC=normal (no fsync).
Prints p50/p99 acknowledgement latency, requests per second (median of the
rounds) and the ratio to the bare endpoint.
Targets: p99 under 25 ms; at least 70 % of the bare endpoint's throughput.

Acknowledging is not the whole work: after each round the benchmark waits
until the workers have run every stored job before the next server's round
starts (so a backlog never slows the next one down), and prints how long that
took ("drain s") and the CPU time the server's processes spent per delivery,
workers included ("CPU us/req", on Linux). With --backlog it does not wait:
the workers fall further behind with every round, as in a burst longer than
they can keep up with, and run beside the acknowledgements all along.

The deliveries are GitHub's example `ping` payloads (npm @octokit/webhooks-examples):
`ping` is the one event the bot handles before the chat-ops features exist, so
every delivery goes through the whole path, queue and worker included.

    .venv/bin/python benchmarks/webhook_load.py [--requests N] [--concurrency C] [--backlog]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "node_modules/@octokit/webhooks-examples/api.github.com/index.json"
SECRET = "benchmark-secret"  # noqa: S105 (a throwaway for loopback)


def bare_app():
    """The baseline: the cheapest FastAPI endpoint that answers a webhook."""
    from fastapi import FastAPI
    from starlette.responses import Response

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    async def webhook(request):
        await request.body()
        return Response(b'{"status": "queued"}', status_code=202, media_type="application/json")

    app.add_route("/webhook", webhook, methods=["POST"])
    app.add_route("/healthz", lambda request: Response(b"ok"), methods=["GET"])
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [a.replace("{port}", str(port)) for a in argv],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {' '.join(argv)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start")


def deliveries(n: int, event: str = "ping") -> list[tuple[bytes, bytes]]:
    """(head, body) of n signed deliveries of GitHub's examples, each with its own delivery id."""
    from bot.webhooks.signature import sign

    pings = next(e["examples"] for e in json.loads(EXAMPLES.read_text()) if e["name"] == event)
    requests = []
    for i in range(n):
        body = json.dumps(pings[i % len(pings)]).encode()
        head = (
            "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "User-Agent: GitHub-Hookshot/benchmark\r\nContent-Type: application/json\r\n"
            f"X-GitHub-Event: {event}\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
            f"X-Hub-Signature-256: {sign(body, SECRET)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append((head, body))
    return requests


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending its share of the deliveries in turn.

    A bare protocol rather than asyncio streams: the load generator shares the
    machine's cores with the server it measures, so each request should cost
    it as little CPU as possible, and both servers are measured alike.
    """

    def __init__(self, work: list[tuple[bytes, bytes]], latencies: list[float], expected: int):
        self._work = work
        self._latencies = latencies
        self._expected = expected
        self._buffer = b""
        self._started = 0.0
        self._transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._next()

    def _next(self) -> None:
        assert self._transport is not None
        if not self._work:
            self._transport.close()
            if not self.done.done():
                self.done.set_result(None)
            return
        head, body = self._work.pop()
        self._started = time.perf_counter()
        self._transport.write(head + body)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self._buffer[:end]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self._buffer) < end + 4 + length:
            return
        self._latencies.append(time.perf_counter() - self._started)
        status = int(head[9:12])
        self._buffer = self._buffer[end + 4 + length :]
        if status != self._expected:
            self.done.set_exception(SystemExit(f"unexpected answer {head[:40]!r}"))
            assert self._transport is not None
            self._transport.close()
            return
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(exc or SystemExit("the server closed the connection"))


async def _load(port: int, requests: list[tuple[bytes, bytes]], concurrency: int, expected: int):
    work = list(reversed(requests))
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    connections = []
    for _ in range(concurrency):
        _, protocol = await loop.create_connection(
            lambda: _Connection(work, latencies, expected), "127.0.0.1", port
        )
        connections.append(protocol)
    await asyncio.gather(*(c.done for c in connections))
    return latencies, time.perf_counter() - started


def _run(coroutine):
    """On uvloop when it is installed (uvicorn uses it too): a cheaper load generator."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def measure(port: int, n: int, concurrency: int, event: str = "ping") -> tuple[list[float], float]:
    # A stored delivery is answered 202; one no handler wants, 200 ("ignored").
    expected = 202 if event == "ping" else 200
    latencies, elapsed = _run(_load(port, deliveries(n, event), concurrency, expected))
    return latencies, n / elapsed


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (Linux /proc; 0 elsewhere)."""
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                pids += [int(child) for child in f.read().split()]
        total = 0
        for each in pids:
            with open(f"/proc/{each}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    except OSError:
        return 0.0
    return total / os.sysconf("SC_CLK_TCK")


def wait_drained(database: Path, expected: int, timeout: float = 300) -> float:
    """Seconds until `expected` jobs are done (the workers caught up)."""
    from bot.server.store import make_store

    started = time.perf_counter()
    if not database.exists():
        return 0.0
    store = make_store(database)
    store.open()
    try:
        while store.counts()["done"] < expected:
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"the workers did not drain {database} in {timeout} s")
            time.sleep(0.02)
    finally:
        store.close()
    return time.perf_counter() - started


def summary(
    latencies: list[float], rates: list[float], drains: list[float], cpu: float, n: int
) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "rps": statistics.median(rates),
        "drain_s": statistics.median(drains),
        "cpu_us": cpu / n * 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per server and round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="do not wait for the workers between rounds: jobs pile up, as in a long burst",
    )
    args = parser.parse_args()
    uvicorn_args = ["--host", "127.0.0.1", "--port", "{port}", "--no-access-log"]
    uvicorn_args += ["--log-level", "warning"]
    bare_argv = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.webhook_load:bare_app"]
    serve_argv = [sys.executable, "-m", "bot", "serve", "--port", "{port}"]
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "bare FastAPI 202": (bare_argv + uvicorn_args, {}),
            "mlbot serve": (serve_argv, {"MLBOT_QUEUE_SYNC": "full"}),
            "mlbot serve, sync=normal": (serve_argv, {"MLBOT_QUEUE_SYNC": "normal"}),
            # Same server, an event no handler wants: signature, headers and JSON are
            # checked, nothing is stored or run. Separates the HTTP path from the queue.
            "mlbot serve, unhandled": (serve_argv, {"MLBOT_QUEUE_SYNC": "full"}),
        }
        running = {}
        databases = {}
        try:
            for name, (argv, extra) in servers.items():
                databases[name] = Path(tmp) / f"{len(running)}.sqlite3"
                env = {
                    "MLBOT_WEBHOOK_SECRET": SECRET,
                    "MLBOT_DATABASE": str(databases[name]),
                    "PYTHONPATH": str(ROOT),
                    **extra,
                }
                running[name] = start(argv, env)
            latencies: dict[str, list[float]] = {name: [] for name in servers}
            rates: dict[str, list[float]] = {name: [] for name in servers}
            drains: dict[str, list[float]] = {name: [] for name in servers}
            cpu: dict[str, float] = dict.fromkeys(servers, 0.0)
            stored: dict[str, int] = dict.fromkeys(servers, 0)
            event = {"mlbot serve, unhandled": "watch"}
            handled = {"mlbot serve", "mlbot serve, sync=normal"}
            for name, (_, port) in running.items():
                measure(port, args.warmup, args.concurrency, event.get(name, "ping"))
                if name in handled:
                    stored[name] += args.warmup
                    wait_drained(databases[name], stored[name])
            # Rounds alternate between the servers, so load from elsewhere on the
            # machine falls on all of them alike.
            for _ in range(args.rounds):
                for name, (proc, port) in running.items():
                    before = cpu_seconds(proc.pid)
                    lat, rate = measure(
                        port, args.requests, args.concurrency, event.get(name, "ping")
                    )
                    if name in handled and not args.backlog:
                        stored[name] += args.requests
                        drains[name].append(wait_drained(databases[name], stored[name]))
                    else:
                        drains[name].append(0.0)
                    cpu[name] += cpu_seconds(proc.pid) - before
                    latencies[name] += lat
                    rates[name].append(rate)
        finally:
            for proc, _ in running.values():
                proc.terminate()
                proc.wait(30)
    total = args.rounds * args.requests
    results = {
        name: summary(latencies[name], rates[name], drains[name], cpu[name], total)
        for name in servers
    }
    print(
        f"webhook ack on loopback: {args.rounds} rounds x {args.requests} signed ping deliveries"
        f" per server, concurrency {args.concurrency}, {os.cpu_count()} CPUs"
        + (", the workers' backlog growing (--backlog)" if args.backlog else "")
    )
    print(
        f"{'server':<26} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'vs bare':>8}"
        f" {'drain s':>8} {'CPU us/req':>11}"
    )
    bare = results["bare FastAPI 202"]
    for name, r in results.items():
        ratio = r["rps"] / bare["rps"]
        print(
            f"{name:<26} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['rps']:>8.0f} {ratio:>8.0%}"
            f" {r['drain_s']:>8.2f} {r['cpu_us']:>11.0f}"
        )
    print("targets: p99 < 25 ms; throughput >= 70 % of the bare endpoint")
    if not args.backlog:
        print("drain s: after a round, until the workers had run every stored job (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
