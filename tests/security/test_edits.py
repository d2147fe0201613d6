"""A pending command completes only for the exact text the bot judged."""

from __future__ import annotations

from tests.security.attacks import (
    World,
    history,
    pending_rollback,
    replies_to,
    wait_for_next_second,
)


def test_an_edit_in_the_same_second_does_not_change_what_an_owner_approves(world: World) -> None:
    history(world, ("promote", "v1.2.0", "production"))  # production ran v1.0.0, v1.1.0
    issue = world.issue()
    world.settle()
    wait_for_next_second()
    cid = world.comment(issue, "/rollback cancer to v1.1.0 because calibration", user="carol")
    world.sim.edit_comment(cid, "/rollback cancer to v1.0.0 because calibration", user="carol")
    comment = world.sim.comments[cid]
    assert comment.updated_at == comment.created_at  # GitHub's timestamps cannot tell
    world.settle()
    assert "v1.1.0" in replies_to(world, issue, cid)[0]  # judged: the text as created

    world.comment(issue, "/approve", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.2.0"  # nothing the owner did not see
    final = replies_to(world, issue, cid)[-1]
    assert "changed" in final.lower() or "edited" in final.lower(), final


def test_an_edit_seconds_later_ends_the_wait(world: World) -> None:
    issue, cid = pending_rollback(world)
    world.sim.advance(5)
    world.sim.edit_comment(cid, "/rollback cancer to v1.0.0 because latency", user="carol")
    world.comment(issue, "/approve", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.1.0"


def test_an_edited_comment_is_never_run(world: World) -> None:
    issue = world.issue()
    cid = world.comment(issue, "Thanks all.", user="bob")
    world.settle()
    before = world.main_sha()
    world.sim.edit_comment(cid, "/rollback cancer because now", user="bob")
    world.settle()
    assert world.main_sha() == before
    assert replies_to(world, issue, cid) == []
