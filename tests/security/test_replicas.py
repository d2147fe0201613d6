"""Exactly one reply per outcome across replicas, on the real PostgreSQL.

Two replicas share one database: replica A runs its workers in this process,
replica B in a child process (as `mlbot serve` does), so their in-process locks
are not shared. Two owners approve a pending `/promote` at the same moment, one
approval delivered to each replica: both find the command pending and approved.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.server.app import create_app
from bot.server.children import DEFAULT_ROUTER
from bot.server.settings import Settings
from bot.simulator import Faults
from tests.e2e.conftest import BOT, SECRET, build_world
from tests.security.attacks import World, replies_to
from tests.server import postgres
from tests.server.live import live_server


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    if postgres.binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(postgres.missing_reason() + " (CI must run the PostgreSQL tests)")
        pytest.skip(postgres.missing_reason())
    with postgres.running() as server:
        yield server


def test_approvals_on_two_replicas_complete_a_pending_command_once(
    make_github_sim, tmp_path, registry_template, postgres_server
) -> None:
    url = postgres_server.create_database()
    faults = Faults()
    worlds = build_world(
        make_github_sim, tmp_path, registry_template, faults=faults, database=url, workers=2
    )
    world: World = next(worlds)
    try:
        settings = Settings(
            _env_file=None,
            webhook_secret=SECRET,
            database=url,
            workers=2,
            max_attempts=5,
            retry_base_seconds=0.05,
            retry_max_seconds=0.5,
            app_id=world.app.id,
            private_key=world.app.private_key_pem,
            github_url=world.sim.url,
            bot_login=BOT,
            queue_sync="normal",
        )
        with live_server(create_app(settings, worker_process=DEFAULT_ROUTER)) as replica_b:
            pr = world.open_pr()
            cid = world.comment(pr, "/promote")
            world.settle()
            # Every GitHub call slowed: each completion takes long enough to overlap the other.
            faults.latency_per_call = 0.05
            for owner, replica in (("alice", world.bot_url), ("bob", replica_b)):
                world.sim.set_webhook(f"{replica}/webhook", SECRET)
                world.review(pr, user=owner)
                world.sim.wait_for_webhooks(30)  # delivered: its job starts, the next one too
            world.sim.set_webhook(f"{world.bot_url}/webhook", SECRET)
            world.settle()
            faults.latency_per_call = 0.0
            assert world.live()["production"] == "v1.2.0"
            done = [r for r in replies_to(world, pr, cid) if "mlbot:done" in r]
            assert len(done) == 1, done
            promoted = [
                m
                for m in world.registry_log()
                if m.startswith("registry: promote cancer v1.2.0 to production")
            ]
            assert len(promoted) == 1
    finally:
        worlds.close()
