"""Approvals that must not count: the author's, the requester's, stale, dismissed, blocked."""

from __future__ import annotations

from tests.security.attacks import World, ask, pending_rollback, refusal, replies_to


def test_an_owner_cannot_approve_their_own_pull_request(world: World) -> None:
    pr = world.open_pr(user="alice")  # alice is a code owner and the author
    world.review(pr, user="alice")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production", user="carol")
    assert world.live()["production"] == "v1.1.0"
    assert "alice authored the pull request" in reply, reply


def test_the_requester_cannot_approve_their_own_promotion(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="bob")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production", user="bob")
    assert world.live()["production"] == "v1.1.0"
    assert "bob requested the promotion" in reply, reply


def test_a_dismissed_approval_does_not_count(world: World) -> None:
    pr = world.open_pr()
    review = world.review(pr, user="alice")
    world.sim.dismiss_review(review, user="bob")
    cid = world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    assert "Waiting for approval" in replies_to(world, pr, cid)[0]


def test_an_owners_changes_requested_blocks_another_owners_approval(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.review(pr, user="bob", state="CHANGES_REQUESTED")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production")
    assert world.live()["production"] == "v1.1.0"
    assert "changes requested by code owner" in reply and "bob" in reply, reply


def test_an_approval_of_an_older_head_does_not_complete_a_pending_promotion(world: World) -> None:
    pr = world.open_pr()
    old = world.head(pr)
    cid = world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    head = world.push(pr, {"models/cancer/train.py": "print('sneaky')\n"})
    world.ci(pr, head)
    world.review(pr, user="alice", commit_id=old)
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    assert all("mlbot:done" not in r for r in replies_to(world, pr, cid))


def test_a_non_owner_approve_on_an_issue_does_not_count(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "/rollback cancer because latency", user="carol")
    world.comment(issue, "/approve", user="erin")
    world.comment(issue, "/approve", user="mallory")
    world.settle()
    assert world.live()["production"] == "v1.1.0"


def test_an_approve_written_before_the_request_does_not_count(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "/approve", user="alice")
    world.settle()
    world.sim.advance(2)
    world.comment(issue, "/rollback cancer because latency", user="carol")
    world.settle()
    assert world.live()["production"] == "v1.1.0"


def test_an_approve_in_a_quote_or_fence_does_not_count(world: World) -> None:
    issue, _ = pending_rollback(world)
    world.comment(issue, "> /approve\n```\n/approve\n```\n<!-- /approve -->", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.1.0"


def test_an_approve_edited_into_an_owners_comment_does_not_count(world: World) -> None:
    issue, _ = pending_rollback(world)
    later = world.comment(issue, "Looking.", user="alice")
    world.settle()
    world.sim.advance(2)
    world.sim.edit_comment(later, "/approve", user="alice")
    world.comment(issue, "/status cancer", user="carol")  # any later event re-reads
    world.settle()
    assert world.live()["production"] == "v1.1.0"


def test_a_reader_cannot_roll_back_even_as_a_code_owner_on_paper(world: World) -> None:
    reply = refusal(world, world.issue(), "/rollback cancer because i can", user="mallory")
    assert "mallory has read access" in reply, reply


def test_a_code_owner_team_member_approval_counts_and_a_team_name_does_not(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="dave")  # in acme/ml-leads, which owns registry/
    cid = world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    assert "mlbot:done" in replies_to(world, pr, cid)[0]
    assert world.live()["production"] == "v1.2.0"
