"""`mlbot serve` runs its workers in a child process: jobs, metrics, restarts, crashes."""

from __future__ import annotations

import os
import signal
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


def children(pid: int) -> set[int]:
    """Live child processes of pid, whichever of its threads started them."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    return {c for c in found if alive(c)}


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
        (worker,) = children(bot.proc.pid)
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
    # Stopping the server stops its workers; the job's log line came from the child.
    assert not alive(worker)
    assert '"delivery_id": "p-1"' in err and '"msg": "job done"' in err


def test_a_worker_process_that_dies_is_restarted(tmp_path):
    bot = serve(tmp_path)
    try:
        (first,) = children(bot.proc.pid)
        os.kill(first, signal.SIGKILL)
        with httpx.Client(base_url=bot.url) as client:
            wait_for(lambda: children(bot.proc.pid) - {first}, what="a new worker process")
            wait_for(lambda: client.get("/healthz").status_code == 200, what="healthy again")
            assert deliver(client, "ping", {"zen": "z"}, "after-restart").status_code == 202
            wait_for(lambda: job_state(tmp_path / "queue.sqlite3", "after-restart") == "done")
    finally:
        _, err = bot.stop()
    assert "the worker process exited; restarting it" in err


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
        worker = children(bot.proc.pid)
        bot.kill9()
        stop.set()
        for thread in senders:
            thread.join(30)
    wait_for(lambda: not any(alive(pid) for pid in worker), what="the workers to die too")
    stored = sum(queue_counts(tmp_path / "queue.sqlite3").values())
    assert stored >= len(acknowledged)
    missing = [d for d in acknowledged if job_state(tmp_path / "queue.sqlite3", d) is None]
    assert missing == []
