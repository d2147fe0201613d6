"""The drift issue through the GitHub adapter against the simulator: one open issue per model."""

from __future__ import annotations

import pytest

from bot.chatops.drift_issue import client_from_environment, model_of, open_or_comment
from bot.errors import InputError
from bot.simulator import GitHubSimulator
from bot.simulator.pytest_plugin import github_sim, make_github_sim  # noqa: F401

REPO = "acme/models"


def test_the_workflow_environment_is_required_and_named() -> None:
    with pytest.raises(InputError, match="GITHUB_TOKEN and GITHUB_REPOSITORY"):
        client_from_environment({})
    with pytest.raises(InputError, match="owner/name"):
        client_from_environment({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "models"})


def test_labels_name_the_model_once() -> None:
    assert model_of(["mlbot:drift", "model:cancer"]) == "cancer"
    assert model_of(["mlbot:drift", "model:cancer", "model:churn"]) is None
    assert model_of(["mlbot:drift", "model:../etc"]) is None


def test_open_then_comment_on_the_open_issue_then_open_again_once_closed(
    github_sim: GitHubSimulator,  # noqa: F811 - the plugin's fixture
) -> None:
    github_sim.create_repo(REPO)
    env = {
        "GITHUB_TOKEN": github_sim.workflow_token(REPO),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": github_sim.url,
    }
    gh, repo = client_from_environment(env)
    drift = {"drifted_columns": 2, "columns_total": 5, "live_version": "v1.0.0", "stage": "prod"}
    first = open_or_comment(gh, repo, "cancer", "report 1", drift=drift, extra_labels=["ops"])
    assert first.action == "opened"
    issue = github_sim.issue(REPO, first.number)
    assert issue.title == "Data drift: cancer (2 of 5 columns), prod v1.0.0"
    assert issue.labels == ["mlbot:drift", "ops", "model:cancer"]
    # Another model's drift issue is its own.
    other = open_or_comment(gh, repo, "churn", "churn report")
    assert other.action == "opened" and other.number != first.number

    second = open_or_comment(gh, repo, "cancer", "report 2", drift=drift)
    assert (second.action, second.number) == ("commented", first.number)
    [comment] = github_sim.comments_on(REPO, first.number)
    assert "report 2" in comment.body and comment.user == "github-actions[bot]"

    github_sim.set_issue_state(REPO, first.number, "closed", user="alice")
    third = open_or_comment(gh, repo, "cancer", "report 3")
    assert third.action == "opened" and third.number not in (first.number, other.number)
