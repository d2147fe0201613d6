"""Kill -9 the server in the middle of a job, restart it: the job completes exactly once."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from tests.server.live import SECRET, BotProcess, deliver, job_state, wait_for

ROOT = Path(__file__).resolve().parents[2]
COMMENT = {
    "action": "created",
    "issue": {"number": 1},
    "comment": {"id": 1, "body": "/promote fraud"},
    "repository": {"id": 1, "name": "models", "full_name": "acme/models"},
    "sender": {"login": "alice"},
}


def start(tmp_path: Path) -> BotProcess:
    env = {
        "MLBOT_WEBHOOK_SECRET": SECRET,
        "MLBOT_DATABASE": str(tmp_path / "queue.sqlite3"),
        "MLBOT_WORKERS": "1",
        "CRASH_TEST_DIR": str(tmp_path),
    }
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "tests.server.crash_app:make_app",
        "--host", "127.0.0.1", "--port", "{port}", "--no-access-log",
    ]  # fmt: skip
    return BotProcess(argv, env, ROOT)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_job_interrupted_by_kill_9_completes_exactly_once_after_restart(tmp_path):
    database = tmp_path / "queue.sqlite3"
    first = start(tmp_path)
    try:
        with httpx.Client(base_url=first.url) as client:
            assert deliver(client, "issue_comment", COMMENT, "crash-1").status_code == 202
        wait_for(lambda: lines(tmp_path / "started"), what="the handler to start")
    finally:
        first.kill9()
    assert job_state(database, "crash-1") == "running"
    assert lines(tmp_path / "completed") == []

    (tmp_path / "release").touch()
    second = start(tmp_path)
    try:
        with httpx.Client(base_url=second.url) as client:
            wait_for(lambda: job_state(database, "crash-1") == "done", what="the resumed job")
            # GitHub redelivering it now changes nothing.
            assert deliver(client, "issue_comment", COMMENT, "crash-1").status_code == 200
            assert deliver(client, "issue_comment", COMMENT, "after-1").status_code == 202
            wait_for(lambda: job_state(database, "after-1") == "done")
    finally:
        second.stop()

    third = start(tmp_path)
    try:
        with httpx.Client(base_url=third.url) as client:
            assert deliver(client, "issue_comment", COMMENT, "after-2").status_code == 202
            wait_for(lambda: job_state(database, "after-2") == "done")
    finally:
        third.stop()

    assert lines(tmp_path / "started") == ["crash-1 1", "crash-1 2", "after-1 1", "after-2 1"]
    assert lines(tmp_path / "completed") == ["crash-1", "after-1", "after-2"]
