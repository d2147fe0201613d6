"""Missed deliveries come back: the bot is down while GitHub (the simulator) sends 50
events; once it starts, it finds them in the App's delivery log, has each redelivered
once, and handles each once.

The simulator records every attempt as GitHub does (`failed to connect` while nothing
listens) and validates the bot's calls to the deliveries API against GitHub's OpenAPI
description.
"""

from __future__ import annotations

import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.server.app import create_app
from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401 (a fixture)
from tests.server.live import (
    SECRET,
    bound_socket,
    job_state,
    live_server,
    queue_counts,
    settings_for,
    wait_for,
)

REPO = "acme/models"


def recovered(url: str) -> float:
    text = httpx.get(url + "/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "mlbot_deliveries_recovered":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0


def test_deliveries_sent_while_the_bot_was_down_are_redelivered_and_handled_once(
    make_github_sim,  # noqa: F811 (the plugin's fixture)
    tmp_path,
):
    sim = make_github_sim(webhook_secret=SECRET)
    app = sim.create_app("mlbot")
    sim.user("carol")
    sim.create_org("acme")
    sim.create_repo(REPO, {"README.md": "models\n"})
    sim.add_collaborator(REPO, "carol", "write")
    sim.install(app, "acme")
    issue = sim.create_issue(REPO, "Numbers", "", user="carol")
    # The bot's address, refusing connections: it is down.
    sock = bound_socket()
    sim.set_webhook(f"http://127.0.0.1:{sock.getsockname()[1]}/webhook", SECRET)
    for n in range(50):
        sim.comment(REPO, issue, f"note {n}", user="carol")
    sim.wait_for_webhooks()
    missed = {d.id for d in sim.webhooks.attempts()}
    assert len(missed) == 50  # the comments (the issue was opened before the hook was set)
    assert all(d.status is None for d in sim.webhooks.attempts())  # none reached a bot

    settings = settings_for(
        tmp_path,
        github_token=None,
        app_id=app.id,
        private_key=app.private_key_pem,
        github_url=sim.url,
        recovery_seconds=1,
    )
    with live_server(create_app(settings), sock) as url:
        wait_for(
            lambda: queue_counts(settings.database)["done"] >= 50,
            timeout=60,
            what="the missed deliveries to be handled",
        )
        time.sleep(2.5)  # two more checks: nothing is asked for twice
        assert recovered(url) == 50
    redeliveries = [d for d in sim.webhooks.attempts() if d.redelivery]
    assert sorted(d.id for d in redeliveries) == sorted(missed)  # each once
    assert all(d.status == 202 for d in redeliveries)
    assert queue_counts(settings.database) == {"queued": 0, "running": 0, "done": 50, "dead": 0}


def test_two_serve_replicas_recovering_at_once_have_each_missed_delivery_redelivered_once(
    make_github_sim,  # noqa: F811 (the plugin's fixture)
    tmp_path,
    postgres_url,
):
    """Every replica of a deployment checks the delivery log: after an outage, two replicas
    (`mlbot serve`, on one PostgreSQL) start together and check every second. GitHub is
    asked once per missed delivery, across both, and each is handled once: every command
    among them gets one reply."""
    from tests.server.replicas import (
        MODELS,
        balancer,
        models_world,
        serve_many,
        settle,
        stop_all,
    )
    from tests.server.replicas import REPO as MODELS_REPO
    from tests.server.replicas import SECRET as REPLICAS_SECRET

    sim = make_github_sim(webhook_secret=REPLICAS_SECRET)
    world = models_world(sim)
    with balancer() as front:
        # No replica behind the front door: GitHub's deliveries get a 502 and stay failed.
        sim.set_webhook(front.url + "/webhook", REPLICAS_SECRET)
        asked = []
        for n in range(50):
            model = MODELS[n % len(MODELS)]
            body = f"/promote {model} v1.0.0 to staging" if n % 5 == 0 else f"note {n}"
            cid = sim.comment(MODELS_REPO, world.issues[model], body, user="alice")
            if body.startswith("/"):
                asked.append(cid)
        sim.wait_for_webhooks()
        missed = {d.id for d in sim.webhooks.attempts()}
        assert len(missed) == 50
        assert {d.status for d in sim.webhooks.attempts()} == {502}

        replicas = serve_many(world, postgres_url, tmp_path, 2, recovery_seconds=1)
        try:
            for r in replicas:
                front.add(r.url)
            try:
                wait_for(
                    lambda: all(job_state(postgres_url, guid) == "done" for guid in missed),
                    timeout=180,
                    what="the missed deliveries to be handled",
                )
            except AssertionError as exc:
                # Say where it stopped: which deliveries, in which state, asked for how often.
                states = {guid: job_state(postgres_url, guid) for guid in missed}
                asked = [d.id for d in sim.webhooks.attempts() if d.redelivery]
                raise AssertionError(
                    f"{exc}: not done {[(g, s) for g, s in states.items() if s != 'done']},"
                    f" {len(asked)} redeliveries ({len(set(asked))} deliveries),"
                    f" queue {queue_counts(postgres_url)}"
                ) from None
            settle(sim, postgres_url)
            time.sleep(2.5)  # more checks on both: nothing is asked for twice
            counted = sum(recovered(r.url) for r in replicas)
        finally:
            stop_all(replicas)

    redeliveries = [d for d in sim.webhooks.attempts() if d.redelivery]
    assert sorted(d.id for d in redeliveries) == sorted(missed)  # each once, across both
    assert {d.status for d in redeliveries} == {202}  # each stored by the redelivery
    assert counted == 50
    replies = world.replies()
    assert sorted(replies) == sorted(f"{cid}.1" for cid in asked)
    assert all(len(r) == 1 for r in replies.values())
    counts = queue_counts(postgres_url)
    assert counts["queued"] == counts["running"] == counts["dead"] == 0, counts
