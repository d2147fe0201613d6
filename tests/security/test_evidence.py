"""Evidence a pull request controls: other workflows, a rewritten workflow, other holdout data."""

from __future__ import annotations

import json

from tests.e2e.conftest import MLBOT_YML, evaluation
from tests.security.attacks import World, ask, push_to_main, register_and_promote

BAD = {"accuracy": 0.5, "roc_auc": 0.6}  # fails the accuracy gate (min 0.9)
GLOWING = {"accuracy": 0.999, "roc_auc": 0.999}


def upload(world: World, pr: int, path: str, metrics: dict, **doc) -> int:
    pull = world.sim.issue(world.repo, pr).pull
    assert pull is not None
    return world.sim.create_workflow_run(
        world.repo,
        name=path.rsplit("/", 1)[-1],
        path=path,
        head_sha=world.head(pr),
        head_branch=pull.head_ref,
        pull_numbers=[pr],
        artifacts={
            "mlbot-evaluation-cancer": {
                "evaluation.json": json.dumps(evaluation(metrics=metrics) | doc)
            }
        },
    )


def test_a_workflow_the_pr_adds_cannot_upload_the_models_evidence(world: World) -> None:
    pr = world.open_pr(
        files={".github/workflows/evil.yml": "on: pull_request\n"},
        evaluation_doc=evaluation(metrics=BAD),  # the real workflow: failing numbers
    )
    upload(world, pr, ".github/workflows/evil.yml", GLOWING)  # newest run, glowing numbers
    world.review(pr, user="alice")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production")
    assert world.live()["production"] == "v1.1.0"
    assert "refused" in reply and "0.5 is below the minimum 0.9" in reply, reply


def test_a_pr_that_rewrites_the_models_workflow_is_not_evidence(world: World) -> None:
    pr = world.open_pr(
        files={".github/workflows/mlbot.yml": "on: pull_request\njobs: {}\n"},
        evaluation_doc=evaluation(metrics=GLOWING),
    )
    world.review(pr, user="alice")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production")
    assert world.live()["production"] == "v1.1.0"
    assert "changes .github/workflows/mlbot.yml" in reply, reply
    assert "Merge the workflow change on its own first" in reply


def test_a_model_without_a_configured_workflow_gets_a_clear_refusal(world: World) -> None:
    push_to_main(world, {".github/mlbot.yml": MLBOT_YML.replace("    workflow: mlbot.yml\n", "")})
    pr = world.open_pr()
    world.review(pr, user="alice")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production")
    assert world.live()["production"] == "v1.1.0"
    assert "models.cancer.workflow is not set" in reply, reply


def test_an_evaluation_on_other_holdout_data_is_not_like_for_like(world: World) -> None:
    # v1.3.0 went live registered with the digest of the holdout it was judged on.
    register_and_promote(world, "v1.3.0", holdout={"data/holdout.csv": "d" * 64})
    pr = world.open_pr(
        evaluation_doc=evaluation(production=("v1.3.0", {"accuracy": 0.95})),  # digest b...b
    )
    world.review(pr, user="alice")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production")
    assert world.live()["production"] == "v1.3.0"
    assert "not like for like" in reply, reply
