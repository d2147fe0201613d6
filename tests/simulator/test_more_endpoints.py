"""Endpoints the features lean on: PR files, PRs of a commit, identity, orgs, rate limits."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.simulator import Faults, GitHubSimulator
from tests.simulator.helpers import http, pygithub


@pytest.fixture
def sim(github_sim: GitHubSimulator) -> GitHubSimulator:
    github_sim.create_org("acme")
    github_sim.create_repo(
        "acme/models", {"README.md": "# models\n", "registry/fraud/stages.yaml": "a\n"}
    )
    github_sim.add_collaborator("acme/models", "alice", "write")
    return github_sim


def test_the_files_a_pull_request_changes(sim: GitHubSimulator) -> None:
    sim.push(
        "acme/models",
        "promote",
        {
            "registry/fraud/stages.yaml": "b\n",
            "models/fraud/train.py": "x = 1\n",
            "README.md": None,
        },
        author="alice",
    )
    sim.push(
        "acme/models", "main", {"unrelated.txt": "moved on\n"}
    )  # base moves after the fork point
    number = sim.open_pr("acme/models", "promote", user="alice")
    files = pygithub(sim).get_repo("acme/models").get_pull(number).get_files()
    assert {(f.filename, f.status) for f in files} == {
        ("registry/fraud/stages.yaml", "modified"),
        ("models/fraud/train.py", "added"),
        ("README.md", "removed"),
    }


def test_pull_requests_of_a_commit(sim: GitHubSimulator) -> None:
    head = sim.push("acme/models", "promote", {"a.txt": "1"}, author="alice")
    number = sim.open_pr("acme/models", "promote", user="alice")
    pulls = pygithub(sim).get_repo("acme/models").get_commit(head).get_pulls()
    assert [p.number for p in pulls] == [number]


def test_a_fork_run_carries_no_pull_requests(sim: GitHubSimulator) -> None:
    sim.fork("acme/models", "mallory")
    head = sim.push("mallory/models", "evil", {"a.txt": "1"}, author="mallory")
    number = sim.open_pr("acme/models", "evil", user="mallory", head_repo="mallory/models")
    run = sim.create_workflow_run(
        "acme/models",
        name="model",
        head_sha=head,
        head_branch="evil",
        pull_numbers=[number],
        head_repo="mallory/models",
    )
    got = pygithub(sim).get_repo("acme/models").get_workflow_run(run)
    assert got.pull_requests == []  # as on GitHub: find the PR by head SHA instead
    assert got.head_repository.full_name == "mallory/models"


def test_identity_organizations_and_rate_limit(sim: GitHubSimulator) -> None:
    gh = pygithub(sim, "alice")
    assert gh.get_user().login == "alice"
    assert gh.get_organization("acme").login == "acme"
    # Two requests so far; asking for the rate limit is free, as on GitHub.
    assert gh.get_rate_limit().resources.core.remaining == 4998
    assert gh.get_rate_limit().resources.core.remaining == 4998
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme")
    token = sim.issue_installation_token(inst).value
    with httpx.Client(base_url=sim.url, headers={"Authorization": f"token {token}"}) as c:
        assert c.get("/user").status_code == 403  # installation tokens have no user
        assert c.get("/repos/acme/models/installation").status_code == 401  # needs the App JWT


def test_issue_reactions_and_set_labels(sim: GitHubSimulator) -> None:
    number = sim.create_issue("acme/models", "Drift", user="alice", labels=["a", "b"])
    with http(sim, "alice") as c:
        assert (
            c.post(
                f"/repos/acme/models/issues/{number}/reactions", json={"content": "rocket"}
            ).status_code
            == 201
        )
        assert [
            r["content"] for r in c.get(f"/repos/acme/models/issues/{number}/reactions").json()
        ] == ["rocket"]
        labels = c.put(
            f"/repos/acme/models/issues/{number}/labels", json={"labels": ["b", "c"]}
        ).json()
    assert [label["name"] for label in labels] == ["b", "c"]


def test_a_timeout_after_the_action_still_writes(make_github_sim) -> None:
    sim = make_github_sim(faults=Faults(timeout_delay=0.5, timeout_after_action=True))
    sim.create_repo("acme/models")
    number = sim.create_issue("acme/models", "Drift", user="alice")
    sim.faults.script("timeout")
    with http(sim, "alice") as c, pytest.raises(httpx.ReadTimeout):
        c.post(
            f"/repos/acme/models/issues/{number}/comments",
            json={"body": "did it land?"},
            timeout=0.2,
        )
    assert [c.body for c in sim.comments_on("acme/models", number)] == ["did it land?"]
    assert json.loads(json.dumps(sim.requests[-1].fault)) == "timeout"
