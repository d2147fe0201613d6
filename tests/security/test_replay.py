"""Replays and redeliveries: a command runs once per (repository, comment, line)."""

from __future__ import annotations

from tests.security.attacks import (
    World,
    comment_delivery,
    deliveries,
    pending_rollback,
    replay,
    replies_to,
)


def test_a_replayed_rollback_under_a_new_delivery_id_does_not_flip_production_back(
    world: World,
) -> None:
    issue = world.issue()
    cid = world.comment(issue, "/rollback cancer because incident", user="bob")
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    commits = len(world.registry_log())

    assert replay(world, comment_delivery(world, cid)) == 202
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    assert len(world.registry_log()) == commits
    assert len(replies_to(world, issue, cid)) == 1


def test_a_replayed_promote_that_expired_when_the_head_moved_stays_expired(world: World) -> None:
    pr = world.open_pr()
    cid = world.comment(pr, "/promote")
    world.settle()
    assert "Waiting for approval" in replies_to(world, pr, cid)[0]
    head = world.push(pr, {"models/cancer/train.py": "print('other')\n"})
    world.ci(pr, head)
    world.review(pr, user="alice")  # on the new head: the old request expires
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    said = len(world.command_replies(pr))

    assert replay(world, comment_delivery(world, cid)) == 202
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    assert len(world.command_replies(pr)) == said


def test_a_redelivery_with_the_same_id_after_the_reply_changes_nothing(world: World) -> None:
    issue = world.issue()
    cid = world.comment(issue, "/rollback cancer because incident", user="bob")
    world.settle()
    delivery = comment_delivery(world, cid)
    commits = len(world.registry_log())
    world.sim.webhooks.redeliver(delivery.id)
    world.settle()
    assert replay(world, delivery, delivery.id) in (200, 202)  # 200: a known delivery
    world.settle()
    assert len(world.registry_log()) == commits
    assert len(replies_to(world, issue, cid)) == 1


def test_a_replayed_pending_command_posts_no_second_pending_reply(world: World) -> None:
    issue, cid = pending_rollback(world)
    for _ in range(3):
        replay(world, comment_delivery(world, cid))
    world.settle()
    assert len(replies_to(world, issue, cid)) == 1
    world.comment(issue, "/approve", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    rolled = [m for m in world.registry_log() if m.startswith("registry: roll back")]
    assert len(rolled) == 1


def test_a_replayed_approval_review_completes_nothing_twice(world: World) -> None:
    pr = world.open_pr()
    cid = world.comment(pr, "/promote")
    world.settle()
    world.review(pr, user="alice")
    world.settle()
    assert world.live()["production"] == "v1.2.0"
    commits = len(world.registry_log())
    review = deliveries(world, "pull_request_review")[-1]
    for _ in range(2):
        replay(world, review)
    world.settle()
    assert len(world.registry_log()) == commits
    done = [r for r in replies_to(world, pr, cid) if "mlbot:done" in r]
    assert len(done) == 1


def test_a_replayed_promote_writes_nothing_and_reads_only_what_it_reads_first(
    world: World,
) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    cid = world.comment(pr, "/promote cancer")
    world.settle()
    assert "Promoted cancer v1.2.0" in replies_to(world, pr, cid)[0]
    first = len(world.sim.requests)

    assert replay(world, comment_delivery(world, cid)) == 202
    world.settle()
    sent = [r for r in world.sim.requests[first:] if r.login == "mlbot[bot]"]
    # The 👀 reaction, then the "already answered?" read beside the command's first reads
    # (permission, head, the PR, its reviews, the tamper issues): no state, no evidence.
    assert [r.operation_id for r in sent if r.method != "GET"] == [
        "reactions/create-for-issue-comment"
    ]
    assert {r.operation_id for r in sent if r.method == "GET"} <= {
        "issues/list-comments",
        "repos/get-collaborator-permission-level",
        "git/get-ref",
        "pulls/get",
        "pulls/list-reviews",
        "issues/list-for-repo",
    }, sent
    assert len(replies_to(world, pr, cid)) == 1
