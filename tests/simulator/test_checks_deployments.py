"""Check runs with buttons, merge groups, deployments, environments and protection rules.

Every request and response is validated against GitHub's OpenAPI description (the
fixture fails the test otherwise); webhook payloads also against their schema and
against the shape of GitHub's real examples in @octokit/webhooks-examples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.simulator import GitHubSimulator
from tests.simulator.helpers import http
from tests.simulator.receiver import WebhookReceiver

SECRET = "s3cret"
REPO = "acme/models"
EXAMPLES = (
    Path(__file__).resolve().parents[2]
    / "node_modules/@octokit/webhooks-examples/api.github.com/index.json"
)


def example(event: str, action: str) -> dict[str, Any]:
    for entry in json.loads(EXAMPLES.read_text()):
        if entry["name"] == event:
            return next(e for e in entry["examples"] if e.get("action") == action)
    raise LookupError(event)


FREE_FORM = {"permissions", "payload"}  # maps whose keys are data, not shape


def same_shape(ours: Any, real: Any, where: str = "$") -> list[str]:
    """Keys the real payload has that ours lacks, or holds with another JSON type."""
    problems = []
    if where.rsplit(".", 1)[-1] in FREE_FORM:
        return []
    if isinstance(real, dict):
        if not isinstance(ours, dict):
            return [f"{where}: object expected"]
        for key, value in real.items():
            if key not in ours:
                problems.append(f"{where}.{key}: missing")
            elif value is not None and ours[key] is not None:
                problems += same_shape(ours[key], value, f"{where}.{key}")
    elif isinstance(real, list):
        if not isinstance(ours, list):
            return [f"{where}: array expected"]
        if real and ours:
            problems += same_shape(ours[0], real[0], f"{where}[0]")
    elif isinstance(real, bool) != isinstance(ours, bool) or (
        isinstance(real, str) != isinstance(ours, str)
    ):
        problems.append(f"{where}: {type(real).__name__} expected, got {type(ours).__name__}")
    return problems


@pytest.fixture
def world(make_github_sim):
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_org("acme")
        sim.create_repo(REPO, {"README.md": "# models\n"})
        sim.add_collaborator(REPO, "alice", "write")
        app = sim.create_app("mlbot")
        inst = sim.install(app, "acme")
        token = sim.issue_installation_token(inst).value
        bot = httpx.Client(
            base_url=sim.url, headers={"Authorization": f"token {token}"}, timeout=10
        )
        yield sim, bot, receiver, app
        bot.close()


def received(sim: GitHubSimulator, receiver: WebhookReceiver, event: str) -> list[dict]:
    sim.wait_for_webhooks()
    return [json.loads(r.body) for r in receiver.received if r.headers["X-GitHub-Event"] == event]


def open_pr(sim: GitHubSimulator) -> tuple[int, str]:
    head = sim.push(REPO, "better", {"model.py": "v2\n"}, author="alice")
    return sim.open_pr(REPO, "better", user="alice"), head


def test_a_check_run_with_annotations_and_a_button_and_its_click(world) -> None:
    sim, bot, receiver, _app = world
    number, head = open_pr(sim)
    body = {
        "name": "mlbot / cancer",
        "head_sha": head,
        "status": "completed",
        "conclusion": "action_required",
        "details_url": "https://example.com/pr",
        "output": {
            "title": "waiting for approval",
            "summary": "| metric |",
            "annotations": [
                {
                    "path": ".github/mlbot.yml",
                    "start_line": 3,
                    "end_line": 3,
                    "annotation_level": "failure",
                    "message": "accuracy below 0.9",
                }
            ],
        },
        "actions": [
            {"label": "Promote production", "description": "/promote", "identifier": "p:prod"}
        ],
    }
    created = bot.post(f"/repos/{REPO}/check-runs", json=body)
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["output"]["annotations_count"] == 1
    assert [p["number"] for p in run["pull_requests"]] == [number]
    notes = bot.get(f"/repos/{REPO}/check-runs/{run['id']}/annotations").json()
    assert [(n["path"], n["start_line"]) for n in notes] == [(".github/mlbot.yml", 3)]

    sim.press_check_action(run["id"], "p:prod", user="alice")
    with pytest.raises(ValueError):
        sim.press_check_action(run["id"], "rollback", user="alice")  # no such button
    sim.rerun_check_run(run["id"], user="alice")
    clicks = received(sim, receiver, "check_run")
    assert [c["action"] for c in clicks] == ["requested_action", "rerequested"]
    assert clicks[0]["requested_action"] == {"identifier": "p:prod"}
    assert clicks[0]["sender"]["login"] == "alice"
    assert clicks[0]["check_run"]["pull_requests"][0]["number"] == number
    assert same_shape(clicks[0], example("check_run", "requested_action")) == []
    assert same_shape(clicks[1], example("check_run", "rerequested")) == []
    assert sim.validation_failures == []


def test_githubs_limits_on_buttons_and_action_required_are_enforced(world) -> None:
    sim, bot, _receiver, _app = world
    _number, head = open_pr(sim)
    long_label = {"label": "Promote to production", "description": "x", "identifier": "x"}
    too_long = bot.post(
        f"/repos/{REPO}/check-runs",
        json={"name": "c", "head_sha": head, "actions": [long_label]},
    )
    assert too_long.status_code == 422
    sim.validation_failures.clear()  # that 422 was the point
    no_details = bot.post(
        f"/repos/{REPO}/check-runs",
        json={"name": "c", "head_sha": head, "conclusion": "action_required"},
    )
    assert no_details.status_code == 422
    # People cannot create check runs at all: only Apps.
    assert (
        http(sim, "alice")
        .post(f"/repos/{REPO}/check-runs", json={"name": "c", "head_sha": head})
        .status_code
        == 403
    )


def test_a_merge_group_is_announced_with_githubs_ref_naming(world) -> None:
    sim, _bot, receiver, _app = world
    number, head = open_pr(sim)
    group_head = sim.enqueue_pr(REPO, number, user="alice")
    [event] = received(sim, receiver, "merge_group")
    group = event["merge_group"]
    assert group["head_sha"] == group_head != head
    assert group["head_ref"] == f"refs/heads/gh-readonly-queue/main/pr-{number}-{head}"
    assert group["base_ref"] == "refs/heads/main"
    assert same_shape(event, example("merge_group", "checks_requested")) == []
    assert sim.validation_failures == []


def test_deployments_statuses_and_environments(world) -> None:
    sim, bot, _receiver, _app = world
    main = sim.repo(REPO).store.ref_sha("heads/main")

    def deploy(env: str, **extra: Any) -> dict:
        answer = bot.post(
            f"/repos/{REPO}/deployments",
            json={"ref": main, "environment": env, "required_contexts": [], **extra},
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    first = deploy("staging", task="deploy:cancer", payload={"version": "v1"})
    ok = bot.post(
        f"/repos/{REPO}/deployments/{first['id']}/statuses",
        json={"state": "success", "log_url": "https://x/commit/1"},
    )
    assert ok.status_code == 201 and ok.json()["log_url"] == "https://x/commit/1"
    second = deploy("staging", task="deploy:cancer")
    bot.post(f"/repos/{REPO}/deployments/{second['id']}/statuses", json={"state": "success"})
    # auto_inactive (the default) retired the first, in a non-production environment.
    states = bot.get(f"/repos/{REPO}/deployments/{first['id']}/statuses").json()
    assert [s["state"] for s in states] == ["inactive", "success"]  # newest first
    listed = bot.get(f"/repos/{REPO}/deployments", params={"task": "deploy:cancer"}).json()
    assert [d["id"] for d in listed] == [second["id"], first["id"]]
    assert listed[1]["payload"] == {"version": "v1"}
    envs = bot.get(f"/repos/{REPO}/environments").json()
    assert [e["name"] for e in envs["environments"]] == ["staging"]
    # A commit status that is not green blocks a deployment that checks every context.
    sim.set_status(REPO, main, "ci", "failure")
    assert bot.post(f"/repos/{REPO}/deployments", json={"ref": main}).status_code == 409


def test_an_app_without_deployments_write_is_refused(make_github_sim) -> None:
    sim: GitHubSimulator = make_github_sim()
    sim.create_repo(REPO)
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme", permissions={"contents": "write", "metadata": "read"})
    token = sim.issue_installation_token(inst).value
    with httpx.Client(base_url=sim.url, headers={"Authorization": f"token {token}"}) as bot:
        answer = bot.post(f"/repos/{REPO}/deployments", json={"ref": "main"})
    assert answer.status_code == 403


def test_a_protection_rule_request_and_its_callback(world) -> None:
    sim, bot, receiver, app = world
    sim.protect_environment(REPO, "production", app.slug)
    run_id = sim.request_deployment_gate(REPO, "production", ref="main", user="alice")
    [event] = received(sim, receiver, "deployment_protection_rule")
    assert event["action"] == "requested" and event["environment"] == "production"
    url = event["deployment_callback_url"]
    assert url == f"{sim.url}/repos/{REPO}/actions/runs/{run_id}/deployment_protection_rule"
    path = url.removeprefix(sim.url)
    # Only the App of the rule may answer, and only once.
    assert (
        http(sim, "alice")
        .post(path, json={"environment_name": "production", "state": "approved"})
        .status_code
        == 403
    )
    answer = bot.post(
        path, json={"environment_name": "production", "state": "rejected", "comment": "no"}
    )
    assert answer.status_code == 204
    assert sim.gate_requests[run_id].reviews == [("mlbot", "rejected", "no")]
    again = bot.post(path, json={"environment_name": "production", "state": "approved"})
    assert again.status_code == 422
    assert sim.validation_failures == []
