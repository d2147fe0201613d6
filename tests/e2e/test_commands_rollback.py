"""/rollback on an incident issue, and /approve where there are no reviews."""

from __future__ import annotations

from bot.registry import audit
from tests.e2e.conftest import World


def test_a_code_owner_rolls_back_at_once_on_an_incident_issue(world: World) -> None:
    issue = world.issue()
    cid = world.comment(issue, "/rollback cancer because error rate doubled", user="bob")
    world.settle()

    assert ("mlbot[bot]", "eyes") in world.reactions(cid)
    reply = world.last_reply(issue)
    assert "Rolled back cancer production to v1.0.0" in reply, reply
    assert "production **v1.0.0**" in reply and "staging **v1.2.0**" in reply
    assert world.live() == {"staging": "v1.2.0", "production": "v1.0.0"}
    message = world.registry_log()[0]
    assert message.startswith("registry: roll back cancer production to v1.0.0")
    trailers = audit.parse_trailers(message)
    assert trailers["Requested-by"] == ["bob"]
    assert trailers["Approved-by"] == ["bob"]  # the rollback policy lets the owner approve
    assert trailers["Refs"] == [f"#{issue}"]
    assert "Reason: error rate doubled" in message
    demotions = [t for t in world.tags() if t.startswith("cancer#production!#")]
    assert demotions, world.tags()
    assert demotions[0] in reply


def test_a_rollback_by_a_non_owner_waits_for_an_owners_approve(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "/rollback because latency", user="carol")
    world.settle()
    assert "several models" in world.last_reply(issue)  # two models: name one

    world.comment(issue, "/rollback cancer because latency", user="carol")
    world.settle()
    reply = world.last_reply(issue)
    assert "Waiting for approval" in reply and "comment `/approve`" in reply
    assert world.live()["production"] == "v1.1.0"

    world.comment(issue, "/approve", user="erin")  # not a code owner
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    assert "**waiting**" in world.last_reply(issue)

    world.comment(issue, "/approve", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    done = [r for r in world.command_replies(issue) if "Rolled back" in r]
    assert len(done) == 1
    trailers = audit.parse_trailers(world.registry_log()[0])
    assert trailers["Requested-by"] == ["carol"] and trailers["Approved-by"] == ["alice"]
    assert "**completed**" in world.last_reply(issue)

    # Nothing is pending any more: a late /approve changes nothing.
    commits = len(world.registry_log())
    world.comment(issue, "/approve", user="bob")
    world.settle()
    assert len(world.registry_log()) == commits
    assert "nothing on this issue is waiting" in world.last_reply(issue)


def test_approve_cancel_approves_nothing(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "/rollback cancer to v1.0.0", user="carol")
    world.settle()
    world.comment(issue, "/approve cancel", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    assert "**waiting**" in world.last_reply(issue)


def test_approve_on_a_pull_request_points_at_reviews(world: World) -> None:
    pr = world.open_pr()
    world.comment(pr, "/approve", user="alice")
    world.settle()
    assert "approve with a review" in world.last_reply(pr)
