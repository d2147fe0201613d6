"""Three `mlbot serve` replicas on one PostgreSQL: each command carried out once, whatever
happens to the deliveries and to the replicas.

Three replicas run as a user runs them (`mlbot serve`, configured by `MLBOT_*` variables:
the database URL, the App's id and key, the GitHub simulator's URL), with the bot's real
handlers. `/promote` and `/rollback` comments on three models reach them through a
balancer that passes every delivery to two replicas at the same moment; every GitHub call
is slowed (the simulator's latency), so jobs overlap and run for a while. One replica is
killed with kill -9 while it runs a job; at the end GitHub is asked to redeliver every
delivery (`POST /app/hook/deliveries/{id}/attempts`), which lands on other replicas.

What users see: every command gets exactly one reply; the registry is one line of
commits, whole, and each command that wrote did so once; the store holds every delivery
once, its job done, nothing queued, running or dead; the job the dead replica was running
was finished by another.
"""

from __future__ import annotations

import sys
import time

import psycopg
import pytest

from bot.registry import audit
from bot.registry.check import check
from bot.registry.git_store import GitStore
from bot.server.recovery import AppDeliveries
from bot.simulator import Faults
from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401 (a fixture)
from tests.server.live import queue_counts, wait_for
from tests.server.replicas import (
    MODELS,
    REPO,
    SECRET,
    balancer,
    children,
    models_world,
    serve_many,
    settle,
    stop_all,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")


def commands(model: str) -> list[tuple[str, str]]:
    """(who, comment) on the model's incident issue: some write, some find nothing to do."""
    return [
        ("bob", f"/rollback {model} because errors"),
        ("alice", f"/promote {model} v1.0.0 to staging"),
        ("alice", f"/rollback {model} to v1.1.0 because it was fine"),
        ("bob", f"/promote {model} v1.2.0 to staging"),
    ] * 2


def running_on(database: str, pids: list[int]) -> list[int]:
    """The seqs of the running jobs whose owner (host:pid:…) is one of these processes."""
    with psycopg.connect(database, autocommit=True) as conn:
        rows = conn.execute("SELECT seq, owner FROM mlbot_jobs WHERE state = 'running'").fetchall()
    return [seq for seq, owner in rows if owner and int(owner.split(":")[1]) in pids]


def still_running(database: str, pids: list[int]) -> list[int]:
    """The jobs these processes run now and still run a moment later."""
    first = running_on(database, pids)
    if not first:
        return []
    time.sleep(0.3)
    return sorted(set(first) & set(running_on(database, pids)))


def test_three_serve_replicas_carry_out_every_command_once_through_duplicates_and_a_kill_9(
    make_github_sim,  # noqa: F811 (the plugin's fixture)
    tmp_path,
    postgres_url,
):
    faults = Faults()
    sim = make_github_sim(webhook_secret=SECRET, faults=faults)
    world = models_world(sim)
    commits_before = len(world.registry_commits())
    replicas = serve_many(world, postgres_url, tmp_path, 3, lease_seconds=2, recovery_seconds=0)
    victim = replicas[0]
    try:
        with balancer([r.url for r in replicas], duplicates=True) as front:
            sim.set_webhook(front.url + "/webhook", SECRET)
            faults.latency_per_call = 0.05  # a GitHub round trip: jobs run for a while
            asked: dict[int, str] = {}
            # Kill the victim while it runs a job of its own (its worker process's), well
            # into the job: it has called GitHub. Whichever replica's workers wake first
            # claim a job, so on a busy machine the victim may get none of a wave: another.
            for wave in range(3):
                for model in MODELS:
                    for user, body in commands(model):
                        asked[sim.comment(REPO, world.issues[model], body, user=user)] = body
                try:
                    interrupted = wait_for(
                        lambda: still_running(postgres_url, children(victim.proc.pid)),
                        timeout=90,
                        what="the victim to run a job",
                    )
                    break
                except AssertionError:
                    if wave == 2:
                        raise
            victim.kill9()
            settle(sim, postgres_url)

            # GitHub redelivering every delivery, each to some other replica, changes nothing.
            originals = [d for d in sim.webhooks.attempts() if not d.redelivery]
            api = AppDeliveries(sim.url, world.app.id, world.app.private_key_pem)
            try:
                for d in originals:
                    api.redeliver(d.number)
            finally:
                api.close()
            settle(sim, postgres_url)
            faults.latency_per_call = 0.0
    finally:
        stop_all(replicas)

    # Every delivery: stored by at most one replica, acknowledged, redelivered as a duplicate.
    for d in originals:
        statuses = front.statuses(d.id)
        assert statuses.count(202) <= 1, (d.event, statuses)
        assert {200, 202} & set(statuses), (d.event, statuses)
        assert set(statuses) <= {200, 202, None}, (d.event, statuses)
    redeliveries = [d for d in sim.webhooks.attempts() if d.redelivery]
    assert len(redeliveries) == len(originals)
    assert {d.status for d in redeliveries} == {200}  # each already stored

    # Every command answered exactly once.
    replies = world.replies()
    assert sorted(replies) == sorted(f"{cid}.1" for cid in asked)
    assert all(len(r) == 1 for r in replies.values()), {
        k: len(v) for k, v in replies.items() if len(v) != 1
    }
    done = [k for k, r in replies.items() if "mlbot:done" in r[0]]
    assert done, "some commands wrote"

    # The registry: one line, whole, one commit per command that wrote.
    assert world.git("rev-list", "--merges", "main").strip() == ""
    assert check(GitStore(world.git_dir, branch="main")) == []
    written = world.registry_commits()[: len(world.registry_commits()) - commits_before]
    assert len(written) == len(done)
    named = [audit.parse_trailers(m).get("Command", [None])[0] for m in written]
    assert len(set(named)) == len(named), named

    # The store: everything done once; the dead replica's job finished by another.
    counts = queue_counts(postgres_url)
    assert counts["queued"] == counts["running"] == counts["dead"] == 0, counts
    assert counts["done"] >= len(asked)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT state, attempts FROM mlbot_jobs WHERE seq = ANY(%s)", (interrupted,)
        ).fetchall()
    assert rows and all(state == "done" and attempts >= 2 for state, attempts in rows), rows
