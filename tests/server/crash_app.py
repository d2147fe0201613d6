"""Apps for the crash tests, built by uvicorn in a subprocess (`--factory`).

Their one handler notes that it started (with the id of the process running
it), waits until the test creates a `release` file, then notes that it
completed: the test kills the server while the handler waits.
`make_app` runs it in worker threads; `make_process_app` in a worker process,
as `mlbot serve` does.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.server.app import create_app
from bot.server.settings import Settings
from bot.webhooks.router import Router

router = Router()


@router.register("issue_comment")
def slow(event, ctx) -> None:
    marks = Path(os.environ["CRASH_TEST_DIR"])
    with (marks / "started").open("a") as f:
        f.write(f"{ctx.delivery_id} {ctx.attempt}\n")
    (marks / f"pid-{ctx.delivery_id}-{ctx.attempt}").write_text(str(os.getpid()))
    while not (marks / "release").exists():
        time.sleep(0.02)
    with (marks / "completed").open("a") as f:
        f.write(f"{ctx.delivery_id}\n")


@router.register("ping")
def pong(event, ctx) -> None:
    ctx.log.info("pong")


def make_app():
    return create_app(Settings(), router=router, github_factory=lambda _id: None)


def make_process_app():
    return create_app(Settings(), worker_process="tests.server.crash_app:router")
