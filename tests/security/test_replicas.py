"""Exactly one reply per outcome across replicas, on the real PostgreSQL.

Two replicas share one database: replica A runs its workers in this process,
replica B in a child process (as `mlbot serve` does), so their in-process locks
are not shared. Two owners approve a pending `/promote` at the same moment, one
approval delivered to each replica, and the simulator holds replica A's completion
after it found the command pending until replica B has got as far or is seen waiting
(`tests.security.races`): without the store's lock on the command's identity both
would complete it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.server.app import create_app
from bot.server.children import DEFAULT_ROUTER
from bot.server.settings import Settings
from bot.simulator import Faults
from tests.e2e.conftest import BOT, SECRET, build_world
from tests.security.attacks import World
from tests.security.races import assert_promoted_once, two_approvals_at_once
from tests.server.live import live_server


def waiting_for_lock(url: str, repo: str, name: str) -> Callable[[], bool]:
    """Whether a session of this database waits for the store's lock on (repo, name)."""
    import psycopg

    def check() -> bool:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                "WITH k AS (SELECT hashtextextended(%s, 0) AS h)"
                " SELECT count(*) FROM pg_locks, k WHERE locktype = 'advisory'"
                " AND NOT granted AND objsubid = 1"
                " AND classid::text::bigint = (k.h >> 32) & 4294967295"
                " AND objid::text::bigint = k.h & 4294967295",
                (f"{repo}\n{name}",),
            ).fetchone()
        return bool(row and row[0])

    return check


def test_approvals_on_two_replicas_complete_a_pending_command_once(
    make_github_sim, tmp_path, registry_template, postgres_url
) -> None:
    """Checked to fail without the lock: with `once.serialised` reduced to a bare
    `yield`, replica B reaches the held permission read too (`second == "both"`) and
    answers a second time (a refusal, "already live", after replica A's done reply).
    With it, B is seen waiting for the advisory lock on `#command <key>`, then finds
    A's done reply and says nothing.
    """
    faults = Faults()
    worlds = build_world(
        make_github_sim,
        tmp_path,
        registry_template,
        faults=faults,
        database=postgres_url,
        workers=1,
    )
    world: World = next(worlds)
    try:
        settings = Settings(
            _env_file=None,
            webhook_secret=SECRET,
            database=postgres_url,
            workers=1,
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
            # Replica B answers the /promote: its worker process is up before the race.
            world.sim.set_webhook(f"{replica_b}/webhook", SECRET)
            cid = world.comment(pr, "/promote")
            world.sim.wait_for_webhooks(30)
            world.sim.set_webhook(f"{world.bot_url}/webhook", SECRET)
            world.settle()

            def bob_on_replica_b() -> None:
                world.sim.set_webhook(f"{replica_b}/webhook", SECRET)
                world.review(pr, user="bob")
                world.sim.wait_for_webhooks(30)
                world.sim.set_webhook(f"{world.bot_url}/webhook", SECRET)

            race = two_approvals_at_once(
                world,
                pr,
                cid,
                second=bob_on_replica_b,
                waiting=waiting_for_lock(postgres_url, world.repo, f"#command {cid}.1"),
            )
            assert_promoted_once(
                world, race, if_not_waited="replica B judged the command A was completing"
            )
    finally:
        worlds.close()
