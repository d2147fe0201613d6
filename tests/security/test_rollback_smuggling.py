"""Rollbacks that try to put into production what nobody approved as a promotion."""

from __future__ import annotations

from tests.security.attacks import World, deprecate, push_to_main, refusal, replies_to


def test_rollback_to_a_version_never_in_production_is_refused_with_the_promote_fix(
    world: World,
) -> None:
    # v1.2.0 has only been in staging: "rolling back" to it is a promotion in disguise.
    reply = refusal(world, world.issue(), "/rollback cancer to v1.2.0 because trust me", user="bob")
    assert world.live()["production"] == "v1.1.0"
    assert "was never live in production" in reply, reply
    assert "/promote cancer v1.2.0 to production" in reply


def test_rollback_to_a_deprecated_version_is_refused(world: World) -> None:
    deprecate(world, "v1.0.0")
    reply = refusal(world, world.issue(), "/rollback cancer to v1.0.0", user="bob")
    assert "deprecated" in reply, reply


def test_two_owners_rolling_back_one_incident_do_not_undo_each_other(make_world) -> None:
    world: World = make_world(workers=4)
    issue = world.issue()
    world.settle()
    first = world.comment(issue, "/rollback cancer because incident", user="bob")
    second = world.comment(issue, "/rollback cancer because incident", user="alice")
    world.settle()
    # One rollback happened: v1.1.0 (the bad one) stays out of production.
    assert world.live()["production"] == "v1.0.0"
    rolled = [m for m in world.registry_log() if m.startswith("registry: roll back")]
    assert len(rolled) == 1, rolled
    done = [r for c in (first, second) for r in replies_to(world, issue, c) if "mlbot:done" in r]
    assert len(done) == 1
    other = [r for c in (first, second) for r in replies_to(world, issue, c) if r not in done]
    assert len(other) == 1 and "someone changed it first" in other[0], other
    assert "Nothing was written" in other[0]
    assert world.git("rev-parse", "main").strip()[:7] in other[0]


def test_a_later_rollback_of_a_stage_someone_else_changed_changes_nothing(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "/rollback cancer because incident", user="carol")  # pending
    world.settle()
    first = world.comment(issue, "/rollback cancer because incident", user="bob")  # at once
    world.settle()
    assert world.live()["production"] == "v1.0.0", world.command_replies(issue)
    commits = len(world.registry_log())
    world.comment(issue, "/approve", user="alice")  # completes carol's: v1.1.0 is gone already
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    assert len(world.registry_log()) == commits
    assert "mlbot:done" in replies_to(world, issue, first)[0]


def test_rollback_to_a_corrupt_version_record_refuses_naming_the_file(world: World) -> None:
    push_to_main(
        world, {"registry/cancer/versions/v1.0.0.yaml": "schema: mlbot/v1\nmodel: [unclosed\n"}
    )
    reply = refusal(world, world.issue(), "/rollback cancer because incident", user="bob")
    assert "registry/cancer/versions/v1.0.0.yaml" in reply, reply
    assert world.live()["production"] == "v1.1.0"
