"""Kill -9 the server in the middle of a job, restart it: the job completes exactly once.

Run with the workers as threads of the server and as its child process (as
`mlbot serve` runs them): in both, kill -9 of the server stops the job.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest

from tests.server.live import SECRET, BotProcess, deliver, job_state, wait_for

ROOT = Path(__file__).resolve().parents[2]
COMMENT = {
    "action": "created",
    "issue": {"number": 1},
    "comment": {"id": 1, "body": "/promote fraud"},
    "repository": {"id": 1, "name": "models", "full_name": "acme/models"},
    "sender": {"login": "alice"},
}


def start(tmp_path: Path, factory: str = "make_app") -> BotProcess:
    env = {
        "MLBOT_WEBHOOK_SECRET": SECRET,
        "MLBOT_DATABASE": str(tmp_path / "queue.sqlite3"),
        "MLBOT_WORKERS": "1",
        "CRASH_TEST_DIR": str(tmp_path),
    }
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", f"tests.server.crash_app:{factory}",
        "--host", "127.0.0.1", "--port", "{port}", "--no-access-log",
    ]  # fmt: skip
    return BotProcess(argv, env, ROOT)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by its dead parent's reaper) runs nothing either.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("factory", ["make_app", "make_process_app"])
def test_a_job_interrupted_by_kill_9_completes_exactly_once_after_restart(tmp_path, factory):
    database = tmp_path / "queue.sqlite3"
    first = start(tmp_path, factory)
    try:
        with httpx.Client(base_url=first.url) as client:
            assert deliver(client, "issue_comment", COMMENT, "crash-1").status_code == 202
        pid_file = tmp_path / "pid-crash-1-1"
        wait_for(lambda: lines(pid_file), what="the handler to start")
    finally:
        first.kill9()
    # Whatever process ran the handler died with the server: nothing runs the job now.
    handler_pid = int(pid_file.read_text())
    wait_for(lambda: not running(handler_pid), what="the job's process to die")
    if factory == "make_process_app":
        assert handler_pid != first.proc.pid
    assert job_state(database, "crash-1") == "running"
    assert lines(tmp_path / "completed") == []

    (tmp_path / "release").touch()
    second = start(tmp_path, factory)
    try:
        with httpx.Client(base_url=second.url) as client:
            wait_for(lambda: job_state(database, "crash-1") == "done", what="the resumed job")
            # GitHub redelivering it now changes nothing.
            assert deliver(client, "issue_comment", COMMENT, "crash-1").status_code == 200
            assert deliver(client, "issue_comment", COMMENT, "after-1").status_code == 202
            wait_for(lambda: job_state(database, "after-1") == "done")
    finally:
        second.stop()

    third = start(tmp_path, factory)
    try:
        with httpx.Client(base_url=third.url) as client:
            assert deliver(client, "issue_comment", COMMENT, "after-2").status_code == 202
            wait_for(lambda: job_state(database, "after-2") == "done")
    finally:
        third.stop()

    assert lines(tmp_path / "started") == ["crash-1 1", "crash-1 2", "after-1 1", "after-2 1"]
    assert lines(tmp_path / "completed") == ["crash-1", "after-1", "after-2"]
