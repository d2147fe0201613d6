"""Each endpoint family the bot uses, driven through PyGithub, with every answer validated."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from github import Auth, Github, GithubException

from bot.simulator import GitHubSimulator
from tests.simulator.helpers import http, pygithub


@pytest.fixture
def sim(github_sim: GitHubSimulator) -> GitHubSimulator:
    github_sim.create_repo("acme/models", {"README.md": "# models\n"})
    github_sim.add_collaborator("acme/models", "alice", "write")
    github_sim.add_collaborator("acme/models", "carol", "maintain")
    github_sim.user("bob")
    return github_sim


def test_pull_requests_reviews_and_merge(sim: GitHubSimulator) -> None:
    sim.push("acme/models", "better", {"model.py": "v2\n"}, author="bob")
    number = sim.open_pr(
        "acme/models", "better", user="bob", title="Better", body="Closes #99 eventually"
    )
    repo = pygithub(sim, "alice").get_repo("acme/models")
    pr = repo.get_pull(number)
    assert (pr.head.ref, pr.base.ref, pr.user.login, pr.state) == ("better", "main", "bob", "open")
    first = sim.submit_review("acme/models", number, user="alice")
    head = sim.push("acme/models", "better", {"model.py": "v3\n"}, author="bob")
    assert repo.get_pull(number).head.sha == head
    pr.create_review(event="REQUEST_CHANGES", body="not yet")
    reviews = list(repo.get_pull(number).get_reviews())
    assert [(r.user.login, r.state) for r in reviews] == [
        ("alice", "APPROVED"),
        ("alice", "CHANGES_REQUESTED"),
    ]
    assert reviews[0].commit_id != head and reviews[1].commit_id == head
    repo.get_pull(number).get_review(first).dismiss("stale")
    assert repo.get_pull(number).get_review(first).state == "DISMISSED"
    result = repo.get_pull(number).merge(merge_method="squash")
    assert result.merged
    merged = repo.get_pull(number)
    assert merged.merged and merged.state == "closed"
    assert repo.get_contents("model.py").decoded_content == b"v3\n"
    assert [p.number for p in repo.get_pulls(state="closed")] == [number]


def test_a_pull_request_from_a_fork(sim: GitHubSimulator) -> None:
    sim.fork("acme/models", "mallory")
    sim.push("mallory/models", "evil", {"model.py": "pwn\n"}, author="mallory")
    number = sim.open_pr("acme/models", "evil", user="mallory", head_repo="mallory/models")
    pr = pygithub(sim).get_repo("acme/models").get_pull(number)
    assert pr.head.repo.full_name == "mallory/models"
    assert pr.head.repo.fork is True
    assert pr.base.repo.full_name == "acme/models"
    # GitHub keeps the fork's head in the base repository as refs/pull/N/head.
    assert sim.repo("acme/models").store.ref_sha(f"pull/{number}/head") == pr.head.sha


def test_issues_labels_comments_and_reactions(sim: GitHubSimulator) -> None:
    gh = pygithub(sim, "alice")
    repo = gh.get_repo("acme/models")
    issue = repo.create_issue(
        "Drift in fraud", body="psi 0.3", labels=["mlbot:drift", "model:fraud"]
    )
    repo.create_issue("Unrelated")
    open_drift = repo.get_issues(state="open", labels=["mlbot:drift", "model:fraud"])
    assert [i.number for i in open_drift] == [issue.number]
    comment = issue.create_comment("/retrain fraud")
    comment.create_reaction("eyes")
    comment.create_reaction("eyes")  # the same person reacting twice is one reaction
    assert [r.content for r in comment.get_reactions()] == ["eyes"]
    comment.edit("/retrain fraud because drift")
    assert repo.get_issue(issue.number).get_comment(comment.id).body.endswith("drift")
    issue.edit(state="closed")
    assert repo.get_issue(issue.number).state == "closed"
    assert {label.name for label in repo.get_labels()} == {"mlbot:drift", "model:fraud"}
    issue.remove_from_labels("model:fraud")
    assert [label.name for label in repo.get_issue(issue.number).labels] == ["mlbot:drift"]
    with http(sim, "alice") as c:
        too_long = c.post(
            f"/repos/acme/models/issues/{issue.number}/comments", json={"body": "x" * 65537}
        )
    assert too_long.status_code == 422


def test_permissions_and_teams(sim: GitHubSimulator) -> None:
    sim.create_team("acme", "ml-owners", {"alice": "maintainer", "dave": "member"})
    gh = pygithub(sim)
    repo = gh.get_repo("acme/models")
    assert repo.get_collaborator_permission("alice") == "write"
    assert repo.get_collaborator_permission("carol") == "write"  # maintain, in the legacy field
    assert repo.get_collaborator_permission("bob") == "read"  # public repository
    assert repo.get_collaborator_permission("acme") == "admin"
    with http(sim) as c:
        role = c.get("/repos/acme/models/collaborators/carol/permission").json()["role_name"]
        assert role == "maintain"
        member = c.get("/orgs/acme/teams/ml-owners/memberships/dave")
        assert member.json() == {
            "url": f"{sim.url}/orgs/acme/teams/ml-owners/memberships/dave",
            "role": "member",
            "state": "active",
        }
        assert c.get("/orgs/acme/teams/ml-owners/memberships/bob").status_code == 404
        assert c.get("/orgs/acme/teams/nobody/memberships/bob").status_code == 404
    with http(sim) as c:
        members = [u["login"] for u in c.get("/orgs/acme/teams/ml-owners/members").json()]
    assert members == ["alice", "dave"]


def test_checks_statuses_runs_and_artifacts(sim: GitHubSimulator) -> None:
    app = sim.create_app("mlbot")
    # Writing a commit status takes `statuses: write`, which mlbot's App does not ask for.
    permissions = {"checks": "write", "statuses": "write", "actions": "read", "contents": "read"}
    inst = sim.install(app, "acme", permissions=permissions)
    token = sim.issue_installation_token(inst).value
    gh = Github(
        auth=Auth.Token(token),
        base_url=sim.url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    repo = gh.get_repo("acme/models")
    head = sim.push("acme/models", "better", {"model.py": "v2\n"}, author="bob")
    number = sim.open_pr("acme/models", "better", user="bob")
    check = repo.create_check_run("mlbot/gate", head, status="in_progress")
    check.edit(conclusion="success", output={"title": "ok", "summary": "all gates green"})
    sim.create_check_run("acme/models", head, "tests", conclusion="failure")
    repo.get_commit(head).create_status("success", context="ci/scan")
    sim.set_status("acme/models", head, "ci/sign", "pending")
    commit = repo.get_commit(head)
    assert {(c.name, c.conclusion) for c in commit.get_check_runs()} == {
        ("mlbot/gate", "success"),
        ("tests", "failure"),
    }
    combined = commit.get_combined_status()
    assert combined.state == "pending"
    assert {s.context: s.state for s in combined.statuses} == {
        "ci/scan": "success",
        "ci/sign": "pending",
    }

    evaluation = {"metrics": {"auc": 0.91}}
    run_id = sim.create_workflow_run(
        "acme/models",
        name="model",
        head_sha=head,
        head_branch="better",
        pull_numbers=[number],
        artifacts={"evaluation": {"evaluation.json": json.dumps(evaluation)}},
    )
    run = repo.get_workflow_run(run_id)
    assert (run.conclusion, run.head_sha, run.pull_requests[0].number) == ("success", head, number)
    assert [r.id for r in repo.get_workflow_runs(head_sha=head)] == [run_id]
    [artifact] = list(run.get_artifacts())
    assert artifact.name == "evaluation"
    status, _headers, chunks = gh.requester.getStream(artifact.archive_download_url)
    data = b"".join(chunks)
    assert status == 200  # after following the redirect to the (simulated) blob storage
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert json.loads(zf.read("evaluation.json")) == evaluation
    # Without a GitHub App token, check runs cannot be created (as on GitHub).
    with pytest.raises(GithubException) as refused:
        pygithub(sim).get_repo("acme/models").create_check_run("x", head)
    assert refused.value.status == 403


def test_contents_put_commits_on_a_branch(sim: GitHubSimulator) -> None:
    repo = pygithub(sim, "alice").get_repo("acme/models")
    repo.create_git_ref("refs/heads/mlbot/retrain/fraud/1", repo.get_branch("main").commit.sha)
    made = repo.create_file(
        "registry/fraud/retrain.yaml",
        "retrain fraud",
        "reason: drift\n",
        branch="mlbot/retrain/fraud/1",
    )
    current = repo.get_contents("registry/fraud/retrain.yaml", ref="mlbot/retrain/fraud/1")
    assert current.decoded_content == b"reason: drift\n"
    repo.update_file(
        current.path, "again", "reason: drift 2\n", current.sha, branch="mlbot/retrain/fraud/1"
    )
    with pytest.raises(GithubException) as stale:
        repo.update_file(current.path, "stale", "x", current.sha, branch="mlbot/retrain/fraud/1")
    assert stale.value.status == 409
    assert made["commit"].sha
    listing = repo.get_contents("registry/fraud", ref="mlbot/retrain/fraud/1")
    assert [c.name for c in listing] == ["retrain.yaml"]


def test_an_app_acts_with_its_installation_permissions(sim: GitHubSimulator) -> None:
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme")
    sim.push("acme/models", "retrain", {"model.py": "v2\n"}, author="alice")
    number = sim.open_pr("acme/models", "retrain", user="alice")
    token = sim.issue_installation_token(inst).value
    gh = Github(
        auth=Auth.Token(token),
        base_url=sim.url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    assert gh.get_repo("acme/models").get_pull(number).merge().merged  # contents: write
    sim.add_collaborator("acme/models", "reader[bot]", "write")  # not how an App gets rights
    reader = sim.install(sim.create_app("reader"), "acme", permissions={"contents": "read"})
    token = sim.issue_installation_token(reader).value
    sim.push("acme/models", "other", {"x.txt": "1\n"}, author="alice")
    other = sim.open_pr("acme/models", "other", user="alice")
    gh = Github(auth=Auth.Token(token), base_url=sim.url, retry=None)
    with pytest.raises(GithubException) as refused:
        gh.get_repo("acme/models").get_pull(other).merge()
    assert refused.value.status == 403
