"""The registry is written through mlbot only: hand edits and forged commits are reported."""

from __future__ import annotations

from tests.e2e.conftest import BOT
from tests.security.attacks import (
    STAGES,
    World,
    ask,
    hand_edit,
    replies_to,
    tamper_issues,
    tamper_report,
)


def test_a_hand_edit_of_stages_yaml_is_reported_and_freezes_promotions(world: World) -> None:
    sha = hand_edit(world, author="alice")
    world.settle()
    issue = tamper_report(world)
    body = issue.body or ""
    assert sha in body and "`alice`" in body and STAGES in body, body
    assert "model:cancer" in issue.labels

    pr = world.open_pr()
    world.review(pr, user="bob")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production")
    assert "tamper" in reply and f"#{issue.number}" in reply, reply

    rollback = world.issue()
    done = world.comment(rollback, "/rollback cancer because hand edit", user="bob")
    world.settle()
    assert "mlbot:done" in replies_to(world, rollback, done)[0]  # rollbacks stay allowed


def test_a_commit_whose_author_field_claims_to_be_mlbot_is_reported(world: World) -> None:
    sha = hand_edit(
        world, author="carol", author_name="mlbot[bot]", author_email="bot@mlbot.invalid"
    )
    world.settle()
    assert sha in (tamper_report(world).body or "")


def test_mlbots_own_writes_are_not_reported(world: World) -> None:
    issue = world.issue()
    first = len(world.sim.requests)
    world.comment(issue, "/rollback cancer because incident", user="bob")
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    assert tamper_issues(world) == []
    # Judging the push of mlbot's own commit asks GitHub who made it and nothing else:
    # no policy, CODEOWNERS or tree is read for a commit nobody else could have written.
    sent = [r for r in world.sim.requests[first:] if r.login == BOT]
    moved = next(i for i, r in enumerate(sent) if r.operation_id == "git/update-ref")
    reads = [r.operation_id for r in sent[moved + 1 :] if r.method == "GET"]
    assert reads.count("repos/get-commit") == 1, reads
    assert not {"git/get-tree", "git/get-blob", "repos/get-content"} & set(reads), reads


def test_a_pr_that_edits_the_registry_by_hand_fails_the_models_check(world: World) -> None:
    stages = world.git("show", "main:registry/cancer/stages.yaml")
    forged = stages.replace("v1.1.0", "v1.2.0")
    pr = world.open_pr(
        files={
            "models/cancer/train.py": "print('better')\n",
            "registry/cancer/stages.yaml": forged,
        }
    )
    world.review(pr, user="alice")
    world.settle()
    runs = [
        r
        for r in world.sim.check_runs.values()
        if r.head_sha == world.head(pr) and r.name == "mlbot / cancer"
    ]
    run = max(runs, key=lambda r: r.id)
    assert run.conclusion == "failure", (run.conclusion, run.output)
    text = f"{run.output['title']}\n{run.output['summary']}"
    assert "registry/cancer/stages.yaml" in text and "without mlbot" in text, text
    assert "Registry changes go through mlbot" in text, text
    assert not run.actions  # no promotion button
