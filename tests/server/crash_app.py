"""An app for the crash test, built by uvicorn in a subprocess (`--factory`).

Its one handler notes that it started, waits until the test creates a
`release` file, then notes that it completed: the test kills the server while
the handler waits.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.server.app import create_app
from bot.server.settings import Settings
from bot.webhooks.router import Router


def make_app():
    marks = Path(os.environ["CRASH_TEST_DIR"])
    router = Router()

    @router.register("issue_comment")
    def slow(event, ctx) -> None:
        with (marks / "started").open("a") as f:
            f.write(f"{ctx.delivery_id} {ctx.attempt}\n")
        while not (marks / "release").exists():
            time.sleep(0.02)
        with (marks / "completed").open("a") as f:
            f.write(f"{ctx.delivery_id}\n")

    return create_app(Settings(), router=router, github_factory=lambda _id: None)
