"""`mlbot serve` stores deliveries and runs jobs in child processes: jobs, metrics,
restarts, crashes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.server.live import SECRET, BotProcess, deliver, job_state, queue_counts, wait_for

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def serve(tmp_path: Path, **env: str) -> BotProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLBOT_")}
    return BotProcess(
        [sys.executable, "-m", "bot", "serve", "--port", "{port}"],
        {
            **clean,
            "MLBOT_WEBHOOK_SECRET": SECRET,
            "MLBOT_DATABASE": str(tmp_path / "queue.sqlite3"),
            "MLBOT_WORKERS": "2",
            **env,
        },
        ROOT,
        capture=True,
    )


def children(pid: int, module: str | None = None) -> set[int]:
    """Live child processes of pid (running `python -m module`, if given)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    if module is not None:
        found = {c for c in found if module in command_line(c)}
    return {c for c in found if alive(c)}


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


WORKERS = "bot.server.worker_process"
WRITER = "bot.server.writer_child"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def samples(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_jobs_run_in_a_child_process_and_its_metrics_reach_the_server(tmp_path):
    bot = serve(tmp_path)
    try:
        (worker,) = children(bot.proc.pid, WORKERS)
        (writer,) = children(bot.proc.pid, WRITER)
        # Jobs yield the CPU to acknowledgements; the queue writer does not.
        server_nice = os.getpriority(os.PRIO_PROCESS, bot.proc.pid)
        wait_for(lambda: os.getpriority(os.PRIO_PROCESS, worker) == min(19, server_nice + 19))
        assert os.getpriority(os.PRIO_PROCESS, writer) == server_nice
        with httpx.Client(base_url=bot.url) as client:
            assert client.get("/readyz").json()["checks"]["workers"] is True
            assert deliver(client, "ping", {"zen": "z", "hook_id": 1}, "p-1").status_code == 202
            wait_for(lambda: job_state(tmp_path / "queue.sqlite3", "p-1") == "done")
            done = ("mlbot_jobs_total", (("event", "ping"), ("outcome", "done")))
            wait_for(lambda: samples(client).get(done) == 1.0, what="the relayed job count")
            found = samples(client)
            duration = ("mlbot_job_duration_seconds_count", (("event", "ping"),))
            assert found[duration] == 1.0
            queued = ("mlbot_webhook_deliveries_total", (("event", "ping"), ("outcome", "queued")))
            assert found[queued] == 1.0
    finally:
        _, err = bot.stop()
    # Stopping the server stops its children; the job's log line came from the workers.
    assert not alive(worker) and not alive(writer)
    assert '"delivery_id": "p-1"' in err and '"msg": "job done"' in err


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (WORKERS, "the worker process exited; restarting it"),
        (WRITER, "the queue writer exited; restarting it"),
    ],
)
def test_a_child_process_that_dies_is_restarted(tmp_path, module, message):
    bot = serve(tmp_path)
    try:
        (first,) = children(bot.proc.pid, module)
        os.kill(first, signal.SIGKILL)
        with httpx.Client(base_url=bot.url) as client:
            wait_for(lambda: children(bot.proc.pid, module) - {first}, what="a new child")
            wait_for(lambda: client.get("/healthz").status_code == 200, what="healthy again")
            assert deliver(client, "ping", {"zen": "z"}, "after-restart").status_code == 202
            wait_for(lambda: job_state(tmp_path / "queue.sqlite3", "after-restart") == "done")
    finally:
        _, err = bot.stop()
    assert message in err


def test_every_acknowledged_delivery_survives_kill_9_of_the_server(tmp_path):
    """202 means stored: kill the server with deliveries in flight; none acknowledged is lost."""
    bot = serve(tmp_path, MLBOT_QUEUE_SYNC="full")
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def send(n: int) -> None:
        with httpx.Client(base_url=bot.url, timeout=10) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                delivery = f"d-{n}-{i}"
                try:
                    response = deliver(client, "ping", {"zen": "z"}, delivery)
                except httpx.TransportError:
                    return
                if response.status_code == 202:
                    with lock:
                        acknowledged.append(delivery)

    senders = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in senders:
        thread.start()
    try:
        wait_for(lambda: len(acknowledged) >= 50, what="some acknowledgements")
    finally:
        kids = children(bot.proc.pid)
        bot.kill9()
        stop.set()
        for thread in senders:
            thread.join(30)
    assert len(kids) == 2
    wait_for(lambda: not any(alive(pid) for pid in kids), what="the children to die too")
    stored = sum(queue_counts(tmp_path / "queue.sqlite3").values())
    assert stored >= len(acknowledged)
    missing = [d for d in acknowledged if job_state(tmp_path / "queue.sqlite3", d) is None]
    assert missing == []


def test_a_delivery_the_queue_writer_cannot_store_gets_503(tmp_path):
    bot = serve(tmp_path)
    try:
        with httpx.Client(base_url=bot.url) as client:
            with sqlite3.connect(tmp_path / "queue.inbox.sqlite3") as conn:
                conn.execute("DROP TABLE deliveries")
            response = deliver(client, "ping", {"zen": "z"}, "lost-1")
            assert response.status_code == 503
            assert "redeliver" in response.json()["error"]
            assert client.get("/healthz").status_code == 200  # the writer itself is fine
    finally:
        _, err = bot.stop()
    assert "the queue could not store a batch of deliveries" in err


def test_a_delivery_crosses_to_the_queue_writer_unchanged():
    from bot.server.writer_frames import parse_request, request_frame, take_frames

    body = '{"a": "b c", "ü": "\\n"}'.encode()
    buffer = bytearray(b"".join(request_frame(7, "d-1", "issue_comment", body)) + b"\0\0")
    (only,) = take_frames(buffer)  # and a partial frame left for later
    assert parse_request(only) == (7, "d-1", "issue_comment", body)
    assert buffer == b"\0\0"


@pytest.mark.parametrize("action", ["created", "edited"])
@pytest.mark.parametrize("installation", [None, {"id": 0}, {"id": 4242}])
def test_the_queue_writer_admits_routes_and_stores_what_it_is_sent(tmp_path, action, installation):
    from bot.server.admission import Routes
    from bot.server.store.sqlite import SqliteStore
    from bot.server.writer_child import store_batch

    routes = Routes.of([("issue_comment", "created"), ("ping", None)], "mlbot[bot]")
    comment = {
        "action": action,
        "issue": {"number": 3},
        "comment": {"id": 1, "body": "/help"},
        "repository": {"id": 1, "name": "models", "full_name": "acme/models"},
        "sender": {"login": "bob"},
        **({"installation": installation} if installation else {}),
    }
    store = SqliteStore(tmp_path / "q.db")
    store.open()
    body = json.dumps(comment).encode()
    own = json.dumps({**comment, "sender": {"login": "mlbot[bot]"}}).encode()
    bad = json.dumps({**comment, "comment": {"id": "not-a-number"}}).encode()
    answers = store_batch(
        [
            (1, "d-1", "issue_comment", body),
            (2, "d-1", "issue_comment", body),
            (3, "d-2", "issue_comment", own),
            (4, "d-3", "issue_comment", bad),
            (5, "d-4", "ping", b'{"zen": "z"}'),
        ],
        store,
        routes,
    )
    wanted = action == "created"
    assert answers[0] == [1, "new" if wanted else "ignored"]
    assert answers[1] == [2, "duplicate" if wanted else "ignored"]
    assert answers[2] == [3, "ignored"]  # the bot's own comment is never a command
    assert answers[3][:2] == [4, "invalid"]
    assert "comment.id" in answers[3][2]
    assert answers[4] == [5, "new"]
    if wanted:
        job = store.get("d-1")
        assert (job.action, job.installation_id, job.payload) == (
            action,
            installation["id"] if installation else None,
            body,
        )
    assert store.get("d-2") is None and store.get("d-3") is None
