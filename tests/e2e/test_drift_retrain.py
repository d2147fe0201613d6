"""Drift to retraining end to end: `mlbot drift --open-issue` -> drift issue -> retraining PR.

The drift check runs the real CLI (real Evidently) against a clone of the simulated
repository, with a workflow token, as the drift action does; the bot then sees the issue
through signed webhooks and opens the retraining PR through the simulated API.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from bot.cli import main as mlbot
from tests.e2e.conftest import BOT, MLBOT_YML, REPO, World

GATE = "      metrics:\n        accuracy: {min: 0.9, max_regression: 0.02}\n"
AUTO_RETRAIN_YML = MLBOT_YML.replace(GATE, GATE + "      drift: {auto_retrain: true}\n")
ACTIONS = "github-actions[bot]"


def _frames(tmp_path: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    cols = ["radius", "texture", "area"]
    ref = pd.DataFrame(rng.normal(0, 1, (300, 3)), columns=cols)
    cur = pd.DataFrame(rng.normal(2.5, 1, (300, 3)), columns=cols)
    ref["target"] = cur["target"] = 0
    ref_path, cur_path = tmp_path / "reference.csv", tmp_path / "current.csv"
    ref.to_csv(ref_path, index=False)
    cur.to_csv(cur_path, index=False)
    return ref_path, cur_path


@pytest.fixture
def drift_check(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `mlbot drift --open-issue` as the scheduled workflow would: a checkout and a token."""
    world.sim.push(REPO, "main", {".github/mlbot.yml": AUTO_RETRAIN_YML}, author="alice")
    checkout = tmp_path / "checkout"
    subprocess.run(
        ["git", "clone", "--quiet", str(world.git_dir), str(checkout)],
        check=True,
        capture_output=True,
    )
    reference, current = _frames(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", world.sim.workflow_token(REPO))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", world.sim.url)

    def run() -> int:
        return mlbot(
            [
                "drift",
                "--repo",
                str(checkout),
                "--model",
                "cancer",
                "--reference",
                str(reference),
                "--current",
                str(current),
                "--out-dir",
                str(tmp_path / "drift"),
                "--open-issue",
            ]
        )

    return run


@pytest.fixture
def drift_issue(world: World, monkeypatch: pytest.MonkeyPatch):
    """What `--open-issue` does after the drift check, without re-running Evidently."""
    from bot.chatops.drift_issue import client_from_environment, open_or_comment

    world.sim.push(REPO, "main", {".github/mlbot.yml": AUTO_RETRAIN_YML}, author="alice")
    monkeypatch.setenv("GITHUB_TOKEN", world.sim.workflow_token(REPO))
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", world.sim.url)

    def run() -> int:
        gh, repository = client_from_environment()
        report = "## ⚠️ Data drift detected for `cancer`\n"
        return open_or_comment(gh, repository, "cancer", report).number

    return run


def drift_issues(world: World, state: str = "open") -> list:
    return [
        i
        for i in world.sim.issues(REPO)
        if i.pull is None and "mlbot:drift" in i.labels and i.state == state
    ]


def retrain_prs(world: World) -> list:
    return [
        i
        for i in world.sim.issues(REPO)
        if i.pull is not None and i.pull.head_ref.startswith("mlbot/retrain/cancer/")
    ]


def test_drift_opens_one_issue_and_the_bot_opens_one_retraining_pr(
    world: World, drift_check
) -> None:
    assert drift_check() == 1  # drift found: exit 1, as the drift action expects
    world.settle()
    [issue] = drift_issues(world)
    assert issue.user == ACTIONS
    assert set(issue.labels) == {"mlbot:drift", "model:cancer"}
    assert issue.title.startswith("Data drift: cancer (3 of 3 columns), production v1.1.0")
    assert "cancer: data drift in 3 columns of 3" in (issue.body or "")

    [pr] = retrain_prs(world)
    assert pr.user == BOT and pr.state == "open"
    assert pr.pull.head_ref == f"mlbot/retrain/cancer/{issue.number}"
    assert pr.pull.base_ref == "main"
    assert f"Closes #{issue.number}" in (pr.body or "")
    # The PR changes exactly registry/cancer/retrain.yaml, on top of main.
    branch = pr.pull.head_ref
    changed = world.git("diff", "--name-only", "main", branch).split()
    assert changed == ["registry/cancer/retrain.yaml"]
    retrain = yaml.safe_load(world.git("show", f"{branch}:registry/cancer/retrain.yaml"))
    assert retrain["model"] == "cancer" and retrain["issue"] == issue.number
    assert retrain["requested_by"] == ACTIONS
    assert retrain["reason"] == "data drift"
    # The window starts when production's live version went live.
    since = world.stages()["stages"]["production"]["since"]
    assert retrain["data_window"]["start"] == str(since)[:10]
    # The issue links the PR, once, although opened + two labeled events all triggered.
    links = [b for b in world.bot_comments(issue.number) if f"#{pr.number}" in b]
    assert len(links) == 1 and "Opened retraining PR" in links[0]

    # The next drift check comments on the open issue; still one issue, one PR.
    assert drift_check() == 1
    world.settle()
    [again] = drift_issues(world)
    assert again.number == issue.number
    reports = [c for c in world.sim.comments_on(REPO, issue.number) if c.user == ACTIONS]
    assert len(reports) == 1 and reports[0].body.startswith("**Drift found again**")
    assert len(retrain_prs(world)) == 1

    # Labelling the issue again is a second trigger: it points nowhere new, opens nothing.
    world.sim.issue(REPO, issue.number).labels.remove("mlbot:drift")
    world.sim.add_labels(REPO, issue.number, ["mlbot:drift"], user="alice")
    world.settle()
    assert len(retrain_prs(world)) == 1
    assert len([b for b in world.bot_comments(issue.number) if f"#{pr.number}" in b]) == 1


def test_a_second_drift_issue_is_pointed_at_the_open_retraining_pr(
    world: World, drift_issue
) -> None:
    drift_issue()
    world.settle()
    [first] = drift_issues(world)
    [pr] = retrain_prs(world)
    # Someone files a drift issue by hand: the bot points at the open PR, opens no other.
    second = world.sim.create_issue(
        REPO,
        "cancer inputs look off again",
        "Seen on the dashboard.",
        user="bob",
        labels=["mlbot:drift", "model:cancer"],
    )
    world.settle()
    assert len(retrain_prs(world)) == 1
    [pointer] = world.bot_comments(second)
    assert f"already open: #{pr.number}" in pointer
    assert first.number != second


def test_without_auto_retrain_the_drift_issue_waits(world: World, tmp_path: Path) -> None:
    number = world.sim.create_issue(
        REPO, "drift", "report", user="bob", labels=["mlbot:drift", "model:cancer"]
    )
    world.settle()
    assert retrain_prs(world) == []
    assert world.bot_comments(number) == []


def test_retraining_pr_comment_approval_promote_then_merge_closes_the_issue(
    world: World, drift_issue
) -> None:
    from bot.registry import audit

    drift_issue()
    world.settle()
    [issue] = drift_issues(world)
    [pr] = retrain_prs(world)
    # The retraining PR runs the model workflow like any PR: the metric comment follows.
    world.ci(pr.number)
    world.settle()
    [comment] = [b for b in world.bot_comments(pr.number) if "mlbot:metrics:cancer" in b]
    assert "cancer v1.2.0 passes 1/1 gate vs production v1.1.0" in comment
    # A code owner approves; a writer promotes the evaluated version.
    world.review(pr.number, user="alice")
    world.comment(pr.number, "/promote cancer v1.2.0 to production", user="carol")
    world.settle()
    assert "Promoted cancer v1.2.0 to production" in world.last_reply(pr.number)
    assert world.live()["production"] == "v1.2.0"
    trailers = audit.parse_trailers(world.registry_log()[0])
    assert trailers["Approved-by"] == ["alice"] and trailers["Refs"] == [f"#{pr.number}"]
    world.sim.merge_pr(REPO, pr.number, user="alice")
    world.settle()
    assert world.sim.issue(REPO, issue.number).state == "closed"
    assert drift_issues(world) == []


def test_a_closed_retraining_pr_is_reopened_from_its_branch_without_a_force_push(
    world: World, drift_issue
) -> None:
    issue = drift_issue()
    world.settle()
    [first] = retrain_prs(world)
    branch = first.pull.head_ref
    old_tip = world.git("rev-parse", branch).strip()
    world.sim.set_issue_state(REPO, first.number, "closed", user="alice")
    # main moves on meanwhile, so a fresh commit on the leftover branch would need a force.
    world.sim.push(REPO, "main", {"README.md": "newer main\n"}, author="alice")
    world.settle()

    world.sim.issue(REPO, issue).labels.remove("mlbot:drift")
    world.sim.add_labels(REPO, issue, ["mlbot:drift"], user="alice")
    world.settle()

    [reopened] = [p for p in retrain_prs(world) if p.state == "open"]
    assert reopened.number != first.number and reopened.pull.head_ref == branch
    new_tip = world.git("rev-parse", branch).strip()
    # The branch only moved forward: its old tip is an ancestor of the new one.
    world.git("merge-base", "--is-ancestor", old_tip, new_tip)
    # And the PR still changes only retrain.yaml against today's main.
    assert world.git("diff", "--name-only", f"main...{branch}").split() == [
        "registry/cancer/retrain.yaml"
    ]
