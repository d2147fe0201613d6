"""Three replicas on one PostgreSQL: each delivery handled once, whatever happens.

Three servers run as `mlbot serve` does (uvicorn, a queue-writer and a
worker process each) on one database. Deliveries are spread over them, each
sent to two replicas at once; one replica is killed with kill -9 while it
runs jobs; everything is redelivered again at the end. Then: every delivery
was stored once and its job finished, nothing is queued, running or dead,
every model's history is linear (no write ever lost a compare-and-swap,
because the model lock serialised the writers across replicas), and every
delivery appears in it exactly once.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bot.server.store import make_store
from tests.server.live import SECRET, BotProcess, deliver, wait_for

ROOT = Path(__file__).resolve().parents[2]
MODELS = 3

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")


class Registry:
    """Per model, a list of delivery ids; a write names the length it read (its parent)."""

    def __init__(self) -> None:
        self.history: dict[str, list[str]] = {}
        self.conflicts = 0
        self.lock = threading.Lock()


@contextmanager
def registry_server() -> Iterator[tuple[str, Registry]]:
    state = Registry()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                self._answer(200, list(state.history.get(self.path.strip("/"), [])))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                entries = state.history.setdefault(self.path.strip("/"), [])
                if body["parent"] != len(entries):
                    state.conflicts += 1
                    self._answer(409, {"message": "the head moved"})
                    return
                entries.append(body["delivery"])
            self._answer(201, {})

        def _answer(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()


def replica(tmp_path: Path, database: str, registry: str, write_seconds: float) -> BotProcess:
    env = {
        "MLBOT_WEBHOOK_SECRET": SECRET,
        "MLBOT_DATABASE": database,
        "MLBOT_WORKERS": "2",
        "MLBOT_WORKER_NICE": "0",
        "MLBOT_LEASE_SECONDS": "2",
        "MLBOT_GITHUB_TOKEN": "ghs_" + "t" * 36,
        "REPLICA_TEST_DIR": str(tmp_path),
        "REPLICA_TEST_REGISTRY": registry,
        "REPLICA_TEST_WRITE_SECONDS": str(write_seconds),
    }
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "tests.server.replica_app:make_app",
        "--host", "127.0.0.1", "--port", "{port}", "--no-access-log",
    ]  # fmt: skip
    # Three servers of three processes each start at once: give a busy machine time.
    return BotProcess(argv, env, ROOT, start_seconds=120)


def comment(n: int) -> dict:
    return {
        "action": "created",
        "issue": {"number": n % MODELS},
        "comment": {"id": n, "body": "/promote"},
        "repository": {"id": 1, "name": "models", "full_name": "acme/models"},
        "sender": {"login": "alice"},
    }


def send_twice(urls: list[str], ids: range, first: int) -> list[tuple[str, int | None]]:
    """Each delivery to two replicas at once; (delivery id, status, or None if unreachable)."""
    clients = {url: httpx.Client(base_url=url, timeout=10) for url in urls}

    def post(url: str, n: int) -> tuple[str, int | None]:
        try:
            return f"d-{n}", deliver(
                clients[url], "issue_comment", comment(n), f"d-{n}"
            ).status_code
        except httpx.TransportError:
            return f"d-{n}", None

    jobs = []
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            for n in ids:
                a, b = urls[(n + first) % len(urls)], urls[(n + first + 1) % len(urls)]
                jobs += [pool.submit(post, a, n), pool.submit(post, b, n)]
            return [j.result() for j in jobs]
    finally:
        for client in clients.values():
            client.close()


def stored_once(answers: list[tuple[str, int | None]], ids: range) -> None:
    """At most one replica said 202; at least one acknowledged the delivery."""
    for n in ids:
        statuses = [s for d, s in answers if d == f"d-{n}"]
        assert statuses.count(202) <= 1, (n, statuses)
        assert set(statuses) - {None} <= {200, 202} and set(statuses) - {None}, (n, statuses)


def started(tmp_path: Path) -> list[tuple[str, int]]:
    path = tmp_path / "started"
    if not path.exists():
        return []
    complete = path.read_text().rpartition("\n")[0]  # a line being written is not read yet
    return [(d, int(p)) for d, p in (line.split() for line in complete.splitlines())]


def test_three_replicas_handle_every_delivery_once_through_duplicates_and_a_kill_9(
    tmp_path, postgres_url
):
    store = make_store(postgres_url)
    store.open()
    with registry_server() as (registry_url, registry), ThreadPoolExecutor(3) as starting:
        # The first replica's writes never end: whatever it runs, it dies running.
        replicas = list(
            starting.map(lambda s: replica(tmp_path, postgres_url, registry_url, s), (60, 0.1, 0.1))
        )
        victim, survivors = replicas[0], replicas[1:]
        try:
            with ThreadPoolExecutor(1) as sending:
                first = sending.submit(send_twice, [r.url for r in replicas], range(45), 0)
                # Kill one replica while it is running a job of its own.
                wait_for(
                    lambda: any(pid == victim.proc.pid for _, pid in started(tmp_path)),
                    what="the victim to run a job",
                )
                victim.kill9()
                answers = first.result()
            stored_once(answers, range(45))
            later = send_twice([r.url for r in survivors], range(45, 60), 0)
            stored_once(later, range(45, 60))
            assert None not in {s for _, s in later}
            wait_for(
                lambda: store.counts()["done"] == 60,
                timeout=90,
                what="every job to finish on the surviving replicas",
            )
            # GitHub redelivering any of them, to any replica, changes nothing.
            again = send_twice([r.url for r in survivors], range(60), 1)
            assert {s for _, s in again} == {200}
            assert store.counts() == {"queued": 0, "running": 0, "done": 60, "dead": 0}
        finally:
            store.close()
            for r in survivors:
                r.stop()

    assert registry.conflicts == 0  # writes to one model never raced across replicas
    written = [d for entries in registry.history.values() for d in entries]
    assert sorted(written) == sorted(f"d-{n}" for n in range(60))  # each exactly once
    for model, entries in registry.history.items():
        assert all(int(d[2:]) % MODELS == int(model[1:]) for d in entries)
    runs = started(tmp_path)
    by_victim = {d for d, pid in runs if pid == victim.proc.pid}
    taken_over = {d for d, pid in runs if pid != victim.proc.pid and d in by_victim}
    assert taken_over  # the dead replica's running job was finished by another
