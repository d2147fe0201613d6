"""GitHub's own surfaces end to end: check runs, merge groups, deployments, protection rules.

Through the real bot on loopback against the simulator (OpenAPI validation on). What a
test asserts is what GitHub would show: check runs on commits, deployments and their
statuses, the answers a deploy job waiting on mlbot gets.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.registry import audit
from bot.simulator.state import CheckRun, Deployment
from tests.e2e.conftest import REPO, World, evaluation

CHECK = "mlbot / cancer"


def check(world: World, sha: str, name: str = CHECK) -> CheckRun:
    """The latest check run of that name on the commit, as GitHub's checks tab shows it."""
    runs = [r for r in world.sim.check_runs.values() if r.head_sha == sha and r.name == name]
    assert runs, f"no check run {name!r} on {sha[:7]}"
    return max(runs, key=lambda r: r.id)


def deployments(world: World, environment: str, model: str = "cancer") -> list[Deployment]:
    """The model's deployments to an environment, newest first."""
    return [d for d in world.sim.deployments_of(REPO, environment) if d.task == f"deploy:{model}"]


def state(dep: Deployment) -> str | None:
    return dep.statuses[-1]["state"] if dep.statuses else None


def sync_deployments(world: World, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """`mlbot github sync-deployments` run as an operator would, with the App's key."""
    from bot.cli import main

    monkeypatch.setenv("MLBOT_APP_ID", str(world.app.id))
    monkeypatch.setenv("MLBOT_PRIVATE_KEY", world.app.private_key_pem)
    monkeypatch.setenv("MLBOT_GITHUB_URL", world.sim.url)
    return main(["github", "sync-deployments", "--repo", REPO, *args])


# -- check runs -----------------------------------------------------------------------------
def test_the_check_turns_green_only_when_every_gate_passes(world: World) -> None:
    pr = world.open_pr(run_workflow=False)
    head = world.head(pr)
    run_id = world.sim.create_workflow_run(
        REPO,
        name="mlbot",
        path=".github/workflows/mlbot.yml",
        head_sha=head,
        head_branch="improve-cancer",
        pull_numbers=[pr],
        artifacts={"mlbot-evaluation-cancer": {"evaluation.json": _json(evaluation())}},
        conclusion=None,
    )
    world.settle()
    started = check(world, head)
    assert (started.status, started.conclusion) == ("in_progress", None)

    world.sim.complete_workflow_run(run_id)
    world.settle()
    waiting = check(world, head)
    assert waiting.id == started.id  # the same check run, edited
    # The gates pass; production needs one code owner's approval, which is missing.
    assert waiting.conclusion == "action_required"
    assert "waiting for approval" in waiting.output["title"]
    assert "| accuracy |" in waiting.output["summary"]
    sticky = next(b for b in world.bot_comments(pr) if "mlbot:metrics:cancer" in b)
    heading = next(line for line in sticky.splitlines() if line.startswith("**"))
    assert waiting.output["title"].startswith(heading.strip("*").split(" — ")[0])

    world.review(pr, user="carol")  # not an owner: still waiting
    world.settle()
    assert check(world, head).conclusion == "action_required"
    world.review(pr, user="alice")
    world.settle()
    assert check(world, head).conclusion == "success"


def test_a_failed_gate_fails_the_check_with_annotations_on_the_gate(world: World) -> None:
    bad = evaluation(metrics={"accuracy": 0.80, "roc_auc": 0.9})
    pr = world.open_pr(evaluation_doc=bad)
    world.review(pr, user="alice")
    world.settle()
    run = check(world, world.head(pr))
    assert run.conclusion == "failure"
    assert "❌" in run.output["title"]
    assert not run.actions  # no promotion button on a failing candidate
    config = world.git("show", "main:.github/mlbot.yml").splitlines()
    [note] = [a for a in run.annotations if a["path"] == ".github/mlbot.yml"]
    assert "accuracy" in config[note["start_line"] - 1]
    assert "below the minimum 0.9" in note["message"]


def test_a_missing_evaluation_fails_the_check_rather_than_passing_it(world: World) -> None:
    pr = world.open_pr(run_workflow=False)
    head = world.head(pr)
    world.sim.create_workflow_run(
        REPO,
        name="mlbot",
        path=".github/workflows/mlbot.yml",
        head_sha=head,
        head_branch="improve-cancer",
        pull_numbers=[pr],
        artifacts={},  # the PR's workflow skipped the evaluation
        conclusion=None,
    )
    world.settle()
    assert check(world, head).status == "in_progress"
    world.sim.complete_workflow_run(max(world.sim.workflow_runs))
    world.settle()
    assert check(world, head).conclusion == "failure"
    # The same workflow evaluates churn, which this PR does not change: nothing to judge.
    untouched = check(world, head, "mlbot / churn")
    assert untouched.conclusion == "neutral" and "models/churn" in untouched.output["title"]


def test_re_run_judges_again_as_a_new_check_run(world: World) -> None:
    pr = world.open_pr()
    world.settle()
    first = check(world, world.head(pr))
    assert first.conclusion == "action_required"
    world.review(pr, user="bob")
    world.settle()
    world.sim.rerun_check_run(check(world, world.head(pr)).id, user="carol")
    world.settle()
    again = check(world, world.head(pr))
    assert again.id != first.id and again.conclusion == "success"


def test_another_apps_check_run_of_the_same_name_is_not_answered(world: World) -> None:
    pr = world.open_pr()
    world.settle()
    head = world.head(pr)
    impostor = world.sim.create_check_run(REPO, head, CHECK, conclusion="failure", app="other")
    before = len(world.sim.check_runs)
    world.sim.rerun_check_run(impostor, user="carol")
    world.settle()
    assert len(world.sim.check_runs) == before  # mlbot judged nothing for it
    assert world.command_replies(pr) == []


def test_the_check_is_reported_on_the_merge_groups_head(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.settle()
    assert check(world, world.head(pr)).conclusion == "success"
    group_head = world.sim.enqueue_pr(REPO, pr, user="alice")
    world.settle()
    queued = check(world, group_head)
    assert queued.conclusion == "success"
    assert queued.head_sha == group_head != world.head(pr)


# -- the promotion button ---------------------------------------------------------------------
def test_a_button_click_is_a_promote_by_the_clicker_with_the_clickers_permissions(
    world: World,
) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.settle()
    green = check(world, world.head(pr))
    assert green.conclusion == "success"
    [button] = green.actions
    assert button == {
        "label": "Promote production",
        "description": "/promote cancer v1.2.0 to production",
        "identifier": "promote:production",
    }

    world.sim.press_check_action(green.id, "promote:production", user="mallory")
    world.settle()
    refused = world.last_reply(pr)
    assert "mallory has read access" in refused and "write or higher" in refused
    assert world.live()["production"] == "v1.1.0"

    commits = len(world.registry_log())
    world.sim.press_check_action(green.id, "promote:production", user="carol")
    world.settle()
    done = world.last_reply(pr)
    assert "Promoted cancer v1.2.0 to production" in done and "by @carol" in done
    assert world.live()["production"] == "v1.2.0"
    message = world.registry_log()[0]
    trailers = audit.parse_trailers(message)
    assert trailers["Requested-by"] == ["carol"]
    assert trailers["Approved-by"] == ["alice"]
    assert trailers["Refs"] == [f"#{pr}"]
    assert trailers["Command"][0].startswith(f"check-run {green.id} line ")
    assert len(world.registry_log()) == commits + 1
    [deployed] = deployments(world, "production")
    assert deployed.payload["version"] == "v1.2.0"

    # The same click delivered again (a replay, a double click) answers nothing new.
    replies = len(world.command_replies(pr))
    world.sim.press_check_action(green.id, "promote:production", user="carol")
    world.settle()
    assert len(world.command_replies(pr)) == replies
    assert len(world.registry_log()) == commits + 1


def test_a_click_on_a_stale_button_is_refused_not_left_waiting(world: World) -> None:
    pr = world.open_pr()
    review = world.review(pr, user="alice")
    world.settle()
    green = check(world, world.head(pr))
    world.sim.dismiss_review(review, user="bob")
    world.sim.press_check_action(green.id, "promote:production", user="carol")  # before re-judging
    world.settle()
    reply = world.last_reply(pr)
    assert reply.startswith("<!-- mlbot:reply ")  # not a pending reply nothing would complete
    assert "approved now" in reply and "0 of 1 code-owner approval" in reply
    assert world.live()["production"] == "v1.1.0"
    assert check(world, world.head(pr)).conclusion == "action_required"


def test_a_forged_button_identifier_does_nothing(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.settle()
    run = check(world, world.head(pr))
    run.actions.append({"label": "x", "description": "x", "identifier": "rollback:production"})
    world.sim.press_check_action(run.id, "rollback:production", user="alice")
    world.settle()
    assert world.command_replies(pr) == []
    assert world.live()["production"] == "v1.1.0"


# -- deployments ----------------------------------------------------------------------------
def test_a_promotion_records_a_deployment_and_retires_the_one_it_replaces(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the registry already says (written before mlbot ran here), put on GitHub once.
    assert sync_deployments(world, monkeypatch) == 0
    [before] = deployments(world, "production")
    assert before.payload["version"] == "v1.1.0" and state(before) == "success"
    assert sync_deployments(world, monkeypatch) == 0  # again: nothing new
    assert len(deployments(world, "production")) == 1

    pr = world.open_pr()
    world.review(pr, user="alice")
    world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    reply = world.last_reply(pr)
    assert "Promoted cancer v1.2.0 to production" in reply
    commit = world.main_sha()
    latest, replaced = deployments(world, "production")
    assert replaced.id == before.id and state(replaced) == "inactive"
    assert state(latest) == "success"
    assert latest.sha == commit and latest.environment == "production"
    assert latest.payload == {
        "model": "cancer",
        "version": "v1.2.0",
        "stage": "production",
        "artifact_sha256": "c" * 64,
        "registry_commit": commit,
    }
    assert latest.statuses[-1]["log_url"].endswith(f"/commit/{commit}")
    assert f"deployment {latest.id} of v1.2.0 to environment production recorded" in reply
    # Other models' deployments sharing the environment are not touched.
    assert deployments(world, "staging", model="churn") == []


def test_a_rollback_records_a_deployment_and_retires_the_bad_one(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    [bad] = deployments(world, "production")
    assert bad.payload["version"] == "v1.2.0" and state(bad) == "success"

    # A rollback asked in the same second as the promotion counts as asked before it.
    world.sim.advance(2)
    issue = world.issue()
    world.comment(issue, "/rollback cancer because error rate doubled", user="bob")
    world.settle()
    reply = world.last_reply(issue)
    assert "Rolled back cancer production to v1.1.0" in reply, reply
    restored, retired = deployments(world, "production")
    assert retired.id == bad.id and state(retired) == "inactive"
    assert restored.payload["version"] == "v1.1.0" and state(restored) == "success"
    assert restored.payload["registry_commit"] == world.main_sha()
    assert f"deployment {restored.id} of v1.1.0 to environment production recorded" in reply


def test_a_failed_deployment_call_never_blocks_the_registry_and_is_re_synced(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    inst = next(iter(world.sim.installations.values()))
    granted = inst.permissions.pop("deployments")  # an App installed before it asked
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    reply = world.last_reply(pr)
    assert "Promoted cancer v1.2.0 to production" in reply
    assert world.live()["production"] == "v1.2.0"  # written once, whole
    assert "deployment of cancer v1.2.0 to environment production failed" in reply
    assert "sync-deployments" in reply
    assert deployments(world, "production") == []

    inst.permissions["deployments"] = granted
    assert sync_deployments(world, monkeypatch, "--model", "cancer") == 0
    [recorded] = deployments(world, "production")
    assert recorded.payload["version"] == "v1.2.0"
    assert recorded.payload["registry_commit"] == world.main_sha()


def test_an_environment_named_per_model_and_stage(make_world) -> None:
    from tests.e2e.conftest import MLBOT_YML

    world: World = make_world()
    config = MLBOT_YML.replace(
        "    workflow: mlbot.yml\n    policy:",
        "    workflow: mlbot.yml\n    environments: {production: cancer-prod}\n    policy:",
        1,
    )
    world.sim.push(REPO, "main", {".github/mlbot.yml": config}, message="env", author="alice")
    issue = world.issue()
    world.comment(issue, "/rollback cancer because latency", user="bob")
    world.settle()
    assert [d.payload["version"] for d in deployments(world, "cancer-prod")] == ["v1.0.0"]
    assert deployments(world, "production") == []


# -- the deployment protection rule -----------------------------------------------------------
def test_a_deploy_job_runs_only_the_version_live_in_its_stage(world: World) -> None:
    world.sim.protect_environment(REPO, "production", world.app.slug)

    def ask(**kw: Any) -> tuple[str, str | None]:
        run_id = world.sim.request_deployment_gate(REPO, "production", user="alice", **kw)
        world.settle()
        [(_app, answer, comment)] = world.sim.gate_requests[run_id].reviews
        return answer, comment

    answer, why = ask(ref="main", payload={"model": "cancer", "version": "v1.2.0"})
    assert answer == "rejected"
    assert "v1.2.0 is not live in production (v1.1.0 is)" in (why or "")
    answer, why = ask(ref="main", payload={"model": "cancer", "version": "v1.1.0"})
    assert answer == "approved" and "cancer v1.1.0 is live in production" in (why or "")
    # No payload: what the registry at the deployed commit runs in production.
    answer, _ = ask(ref="main", payload={"model": "cancer"})
    assert answer == "approved"
    # A registration tag of a version that is not live.
    answer, why = ask(ref="refs/tags/cancer@v1.2.0", payload={"model": "cancer"})
    assert answer == "rejected" and "v1.2.0 is not live" in (why or "")
    # An old commit whose registry ran another version in production.
    old = world.git("rev-list", "-n1", "cancer@v1.1.0").strip()
    answer, why = ask(ref=old, payload={"model": "cancer"})
    assert answer == "rejected" and "v1.0.0 is not live" in (why or "")


def test_a_version_not_live_may_deploy_only_if_it_passes_every_promotion_gate(
    world: World,
) -> None:
    world.sim.protect_environment(REPO, "production", world.app.slug)
    pr = world.open_pr()  # CI on its head: the required check `mlbot` is green
    world.settle()

    def ask() -> tuple[str, str]:
        run_id = world.sim.request_deployment_gate(
            REPO,
            "production",
            ref=world.head(pr),
            user="carol",
            payload={"model": "cancer", "version": "v1.2.0"},
            pull_numbers=[pr],
        )
        world.settle()
        [(_app, answer, comment)] = world.sim.gate_requests[run_id].reviews
        return answer, comment or ""

    answer, why = ask()  # no code owner has approved the PR
    assert answer == "rejected"
    assert "as a promotion it fails approvals (0 of 1 code-owner approval" in why
    world.review(pr, user="carol")  # not an owner
    assert ask()[0] == "rejected"
    world.review(pr, user="bob")
    answer, why = ask()
    assert answer == "approved", why
    assert "passes every promotion gate of production" in why
    assert world.live()["production"] == "v1.1.0"  # a deploy job never writes the registry


def test_a_protection_rule_for_an_environment_no_model_deploys_to_is_rejected(
    world: World,
) -> None:
    world.sim.protect_environment(REPO, "qa", world.app.slug)
    run_id = world.sim.request_deployment_gate(REPO, "qa", ref="main", user="alice")
    world.settle()
    [(_app, answer, comment)] = world.sim.gate_requests[run_id].reviews
    assert answer == "rejected" and "no model's stage deploys to environment qa" in comment


def _json(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc)
