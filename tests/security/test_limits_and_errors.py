"""Every command ends in one honest reply: past the limit, on a bug, under concurrency."""

from __future__ import annotations

import json

from tests.e2e.conftest import evaluation
from tests.security.attacks import World, answers, replies_to


def test_commands_past_the_limit_get_one_reply_naming_the_lines_not_run(world: World) -> None:
    issue = world.issue()
    body = "\n".join(["/status cancer"] * 5 + ["/rollback cancer because sixth"])
    cid = world.comment(issue, body, user="bob")
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    got = answers(world, issue)
    assert len([k for k in got if k.startswith(f"{cid}.")]) == 6  # five runs, one "not run"
    notice = replies_to(world, issue, cid, line=6)
    assert len(notice) == 1 and "line 6" in notice[0] and "not run" in notice[0], notice


def test_a_bug_in_one_command_gets_a_reply_and_the_others_still_run(world: World) -> None:
    # evaluation.json is the PR's own file: a malformed one must not crash the bot silently.
    doc = evaluation()
    doc["candidate"] = "not a mapping"
    pr = world.open_pr(evaluation_doc=doc)
    world.review(pr, user="alice")
    cid = world.comment(pr, "/promote cancer v1.2.0 to production\n/status cancer")
    world.settle()
    first = replies_to(world, pr, cid, line=1)
    assert len(first) == 1, answers(world, pr)
    assert world.live()["production"] == "v1.1.0"
    assert "nothing was written" in first[0].lower() or "evaluation" in first[0].lower()
    assert len(replies_to(world, pr, cid, line=2)) == 1


def test_an_internal_error_reply_names_the_delivery(world: World) -> None:
    from tests.security.attacks import comment_delivery

    pr = world.open_pr(evaluation_doc=json.loads(json.dumps(evaluation())) | {"candidate": 7})
    cid = world.comment(pr, "/promote cancer")
    world.settle()
    (reply,) = replies_to(world, pr, cid)
    assert world.live()["production"] == "v1.1.0"
    delivery = comment_delivery(world, cid)
    assert delivery.id in reply or "evaluation" in reply.lower(), reply


def test_concurrent_approvals_produce_exactly_one_promoted_reply(make_world) -> None:
    world: World = make_world(workers=4)
    pr = world.open_pr()
    cid = world.comment(pr, "/promote")
    world.settle()
    for owner in ("alice", "bob", "dave"):
        world.review(pr, user=owner)
    world.settle()
    assert world.live()["production"] == "v1.2.0"
    done = [r for r in replies_to(world, pr, cid) if "mlbot:done" in r]
    assert len(done) == 1, done
    promoted = [
        m
        for m in world.registry_log()
        if m.startswith("registry: promote cancer v1.2.0 to production")
    ]
    assert len(promoted) == 1
