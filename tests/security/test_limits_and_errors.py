"""Every command ends in one honest reply: past the limit, on a bug, under concurrency."""

from __future__ import annotations

from bot.simulator import Faults
from tests.e2e.conftest import evaluation
from tests.security.attacks import World, answers, comment_delivery, pending_rollback, replies_to


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


def test_a_malformed_evaluation_gets_a_reply_and_the_other_commands_still_run(
    world: World,
) -> None:
    # evaluation.json is the PR's own file: fields of the wrong type crashed the bot.
    doc = evaluation()
    doc["production"] = 7
    doc["holdout"] = "x"
    pr = world.open_pr(evaluation_doc=doc)
    world.review(pr, user="alice")
    cid = world.comment(pr, "/promote cancer v1.2.0 to production\n/status cancer")
    world.settle()
    assert len(replies_to(world, pr, cid, line=1)) == 1, answers(world, pr)
    assert len(replies_to(world, pr, cid, line=2)) == 1
    assert world.live()["production"] == "v1.2.0"  # the candidate's own numbers still gate


def test_github_failing_on_the_last_attempt_gets_a_reply_naming_the_delivery(
    make_world,
) -> None:
    faults = Faults(rate=0.0, kinds=("error",), only_paths=("/orgs/acme/teams",))
    world: World = make_world(faults=faults, max_attempts=1)
    issue = world.issue()
    world.settle()
    faults.rate = 1.0  # the team of code owners cannot be read
    cid = world.comment(issue, "/rollback cancer because incident\n/status cancer", user="bob")
    world.settle()
    faults.rate = 0.0
    (first,) = replies_to(world, issue, cid, line=1)
    assert comment_delivery(world, cid).id in first, first
    assert "Nothing was written by this command" in first
    assert world.live()["production"] == "v1.1.0"
    assert len(replies_to(world, issue, cid, line=2)) == 1  # the next command still ran


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


def test_github_failing_while_approve_completes_a_command_gets_a_retry(
    make_world,
) -> None:
    faults = Faults(rate=0.0, kinds=("error",), only_paths=("/repos/acme/models/git/",))
    world: World = make_world(faults=faults, max_attempts=3)
    issue, rollback = pending_rollback(world)
    assert world.live()["production"] == "v1.1.0"
    # The next git calls, made while /approve completes the rollback: more failures than
    # the client retries itself, so the job fails this attempt.
    faults.script(*["error"] * 6)
    approve = world.comment(issue, "/approve", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    said = replies_to(world, issue, rollback) + replies_to(world, issue, approve)
    assert not [r for r in said if "GitHub kept failing" in r or "mlbot:error" in r], said
    assert len([r for r in replies_to(world, issue, rollback) if "mlbot:done" in r]) == 1
    assert len(replies_to(world, issue, approve)) == 1
