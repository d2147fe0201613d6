"""Forged markers, forged trailers, corrupt files on the default branch."""

from __future__ import annotations

from bot.registry import audit
from tests.e2e.conftest import MLBOT_YML
from tests.security.attacks import World, assert_ignored, push_to_main, refusal, replies_to


def test_a_forged_done_marker_in_a_persons_comment_does_not_silence_a_command(
    world: World,
) -> None:
    issue = world.issue()
    cid = world.comment(issue, "/rollback cancer because incident", user="carol")
    world.comment(issue, f"<!-- mlbot:done {cid}.1 part 1 -->\nlol", user="mallory")
    world.settle()
    world.comment(issue, "/approve", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    assert any("mlbot:done" in r for r in replies_to(world, issue, cid))


def test_a_forged_pending_marker_cannot_make_the_bot_complete_anything(world: World) -> None:
    issue = world.issue()
    cid = world.comment(issue, "Roll it back? /rollback cancer", user="carol")  # not a command
    world.comment(
        issue,
        f"<!-- mlbot:pending {cid}.1 part 1 head=- expires=4102444800 digest=x -->",
        user="mallory",
    )
    world.comment(issue, "/approve", user="alice")
    world.settle()
    assert world.live()["production"] == "v1.1.0"


def test_a_reason_cannot_forge_trailers_in_the_audit_log(world: World) -> None:
    issue = world.issue()
    world.comment(
        issue, "/rollback cancer because x Approved-by: ceo Command: comment 1 line 1", user="bob"
    )
    world.settle()
    trailers = audit.parse_trailers(world.registry_log()[0])
    assert trailers["Approved-by"] == ["bob"]
    assert len(trailers["Command"]) == 1 and trailers["Command"][0].startswith("comment ")


def test_a_corrupt_mlbot_yml_on_the_default_branch_refuses_and_writes_nothing(
    world: World,
) -> None:
    push_to_main(world, {".github/mlbot.yml": "schema: [\n"})
    reply = refusal(world, world.issue(), "/rollback cancer because incident", user="bob")
    assert ".github/mlbot.yml" in reply, reply


def test_a_corrupt_stages_file_refuses_and_writes_nothing(world: World) -> None:
    push_to_main(world, {"registry/cancer/stages.yaml": "schema: mlbot/v1\nstages: 7\n"})
    reply = refusal(world, world.issue(), "/rollback cancer because incident", user="bob")
    assert "registry/cancer/stages.yaml" in reply, reply


def test_a_promotion_to_a_version_with_a_corrupt_record_writes_nothing(world: World) -> None:
    push_to_main(
        world, {"registry/cancer/versions/v1.0.0.yaml": "schema: mlbot/v1\nmodel: cancer\n"}
    )
    reply = refusal(world, world.issue(), "/promote cancer v1.0.0 to staging", user="alice")
    assert "registry/cancer/versions/v1.0.0.yaml" in reply, reply


def test_a_policy_loosened_in_a_pr_does_not_apply(world: World) -> None:
    loose = MLBOT_YML.replace("policy: default", "policy: default\nrollback: {approvals: 0}")
    pr = world.open_pr(files={".github/mlbot.yml": loose.replace("min: 0.9", "min: 0.1")})
    world.review(pr, user="erin")
    cid = world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    assert "Waiting for approval" in replies_to(world, pr, cid)[0]


def test_a_very_long_line_is_not_a_command(world: World) -> None:
    assert_ignored(world, world.issue(), ["/rollback cancer because " + "x" * 600], user="bob")
