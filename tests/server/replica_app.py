"""An app for the multi-replica tests, run as `mlbot serve` runs (uvicorn, child processes).

Its handler does what a registry write does, against a small "registry"
server of the test's (`REPLICA_TEST_REGISTRY`): under the store's model lock
it reads the model's head, waits a little (a GitHub round trip), and writes
the next entry with compare-and-swap on that head. Like the bot's real
handlers it is idempotent: a run that finds its delivery already written
(a job re-run after its replica died) writes nothing.
Each start is noted in `REPLICA_TEST_DIR/started` with the server's pid.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from bot.server.app import create_app
from bot.server.settings import Settings
from bot.webhooks.router import Router

router = Router()
_ROUTER = "tests.server.replica_app:router"


@router.register("issue_comment")
def write(event, ctx) -> None:
    marks = Path(os.environ["REPLICA_TEST_DIR"])
    with (marks / "started").open("a") as f:
        f.write(f"{ctx.delivery_id} {os.getppid()}\n")
    model = f"m{event.issue.number}"
    registry = os.environ["REPLICA_TEST_REGISTRY"]
    with ctx.model_lock("acme/models", model), httpx.Client(base_url=registry) as http:
        history = http.get(f"/{model}").raise_for_status().json()
        if ctx.delivery_id in history:
            return
        time.sleep(float(os.environ.get("REPLICA_TEST_WRITE_SECONDS", "0.05")))
        http.post(
            f"/{model}", json={"parent": len(history), "delivery": ctx.delivery_id}
        ).raise_for_status()


def make_app():
    return create_app(Settings(), worker_process=_ROUTER)
