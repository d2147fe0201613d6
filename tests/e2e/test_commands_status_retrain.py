"""/status in a PR refreshes the metric comment; /retrain opens the retraining PR."""

from __future__ import annotations

import re

from tests.e2e.conftest import World


def test_status_in_a_pr_shows_the_registry_and_refreshes_the_metric_comment(
    world: World,
) -> None:
    pr = world.open_pr()
    world.settle()
    metric = [b for b in world.bot_comments(pr) if "mlbot:metrics:cancer" in b]
    assert len(metric) == 1
    world.comment(pr, "/status cancer", user="erin")
    world.settle()
    reply = world.last_reply(pr)
    assert "| production | v1.1.0 |" in reply
    assert re.search(
        r"\[Metric comment of cancer\]\(http[^)]+\): (updated|already up to date)\.", reply
    )
    # Still one metric comment: refreshed in place, never a second one.
    assert len([b for b in world.bot_comments(pr) if "mlbot:metrics:cancer" in b]) == 1


def test_retrain_on_an_issue_opens_one_retraining_pr(world: World) -> None:
    issue = world.issue("cancer drifts")
    world.comment(issue, "/retrain cancer because the scanner changed", user="carol")
    world.settle()
    reply = world.last_reply(issue)
    assert "opened #" in reply, reply
    pulls = [i for i in world.sim.issues(world.repo) if i.pull is not None]
    assert [p.pull.head_ref for p in pulls] == [f"mlbot/retrain/cancer/{issue}"]

    world.comment(issue, "/retrain cancer", user="bob")
    world.settle()
    assert "already open" in world.last_reply(issue)
    assert len([i for i in world.sim.issues(world.repo) if i.pull is not None]) == 1


def test_retrain_needs_write_access(world: World) -> None:
    issue = world.issue("cancer drifts")
    world.comment(issue, "/retrain cancer", user="mallory")
    world.settle()
    assert "mallory has read access" in world.last_reply(issue)
    assert not [i for i in world.sim.issues(world.repo) if i.pull is not None]
