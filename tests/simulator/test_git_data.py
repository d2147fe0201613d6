"""Git data through the API lands as real git objects, and refs refuse to move backwards."""

from __future__ import annotations

import subprocess

import pytest
from github import GithubException, InputGitTreeElement

from bot.simulator import GitHubSimulator
from tests.simulator.helpers import pygithub


def git(sim: GitHubSimulator, *args: str) -> str:
    path = sim.repo("acme/models").store.path
    return subprocess.run(
        ["git", "-C", str(path), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(github_sim: GitHubSimulator):
    github_sim.create_repo(
        "acme/models",
        {"README.md": "# models\n", "registry/fraud/stages.yaml": "production: v1.0.0\n"},
    )
    github_sim.add_collaborator("acme/models", "alice", "write")
    return pygithub(github_sim).get_repo("acme/models")


def test_blob_tree_commit_ref_and_tag_round_trip(github_sim: GitHubSimulator, repo) -> None:
    head = repo.get_git_ref("heads/main")
    parent = repo.get_git_commit(head.object.sha)
    blob = repo.create_git_blob("version: v1.1.0\n", "utf-8")
    tree = repo.create_git_tree(
        [
            InputGitTreeElement(
                "registry/fraud/versions/v1.1.0.yaml", "100644", "blob", sha=blob.sha
            ),
            InputGitTreeElement(
                "registry/fraud/stages.yaml", "100644", "blob", content="production: v1.1.0\n"
            ),
        ],
        parent.tree,
    )
    commit = repo.create_git_commit(
        "registry: promote fraud v1.1.0 to production\n\nRequested-by: alice\n", tree, [parent]
    )
    head.edit(commit.sha, force=False)
    tag = repo.create_git_tag("fraud#production#1", "promote", commit.sha, "commit")
    repo.create_git_ref("refs/tags/fraud#production#1", tag.sha)

    # The objects are real git objects: git itself reads them back.
    assert git(github_sim, "rev-parse", "main").strip() == commit.sha
    assert git(github_sim, "show", "main:registry/fraud/stages.yaml") == "production: v1.1.0\n"
    assert git(github_sim, "show", "main:README.md") == "# models\n"
    assert git(github_sim, "cat-file", "-t", "fraud#production#1").strip() == "tag"
    assert "Requested-by: alice" in git(github_sim, "log", "-1", "--format=%B", "main")
    assert git(github_sim, "rev-parse", "fraud#production#1^{commit}").strip() == commit.sha

    # ...and the API reads them back the same way.
    assert repo.get_git_tag(tag.sha).object.sha == commit.sha
    assert repo.get_git_blob(blob.sha).content
    paths = {e.path for e in repo.get_git_tree(commit.sha, recursive=True).tree}
    assert {"registry/fraud/versions/v1.1.0.yaml", "registry/fraud/stages.yaml"} <= paths
    content = repo.get_contents("registry/fraud/stages.yaml", ref="main")
    assert content.decoded_content == b"production: v1.1.0\n"
    assert [r.ref for r in repo.get_git_matching_refs("tags/fraud")] == [
        "refs/tags/fraud#production#1"
    ]


def test_a_non_fast_forward_update_is_refused_with_422(github_sim: GitHubSimulator, repo) -> None:
    head = repo.get_git_ref("heads/main")
    base = repo.get_git_commit(head.object.sha)
    ours = repo.create_git_commit("ours", base.tree, [base])
    theirs = repo.create_git_commit("theirs", base.tree, [base])
    head.edit(ours.sha, force=False)

    with pytest.raises(GithubException) as refused:
        repo.get_git_ref("heads/main").edit(theirs.sha, force=False)
    assert refused.value.status == 422
    assert refused.value.data["message"] == "Update is not a fast forward"
    assert git(github_sim, "rev-parse", "main").strip() == ours.sha  # nothing moved

    repo.get_git_ref("heads/main").edit(theirs.sha, force=True)  # force is an explicit choice
    assert git(github_sim, "rev-parse", "main").strip() == theirs.sha


def test_creating_an_existing_ref_is_refused(repo) -> None:
    sha = repo.get_git_ref("heads/main").object.sha
    repo.create_git_ref("refs/tags/fraud@v1.0.0", sha)
    with pytest.raises(GithubException) as refused:
        repo.create_git_ref("refs/tags/fraud@v1.0.0", sha)
    assert refused.value.status == 422
    assert refused.value.data["message"] == "Reference already exists"


def test_a_tree_entry_with_a_null_sha_deletes_the_file(github_sim: GitHubSimulator) -> None:
    github_sim.create_repo("acme/models", {"a/keep.txt": "k", "a/drop.txt": "d"})
    token = github_sim.add_token("acme")
    import httpx

    with httpx.Client(base_url=github_sim.url, headers={"Authorization": f"token {token}"}) as c:
        head = c.get("/repos/acme/models/git/ref/heads/main").json()["object"]["sha"]
        tree = c.get(f"/repos/acme/models/git/commits/{head}").json()["tree"]["sha"]
        made = c.post(
            "/repos/acme/models/git/trees",
            json={
                "base_tree": tree,
                "tree": [{"path": "a/drop.txt", "mode": "100644", "type": "blob", "sha": None}],
            },
        )
        assert made.status_code == 201
        assert [e["path"] for e in made.json()["tree"]] == ["a"]
        listed = c.get(f"/repos/acme/models/git/trees/{made.json()['sha']}?recursive=1").json()
    assert [e["path"] for e in listed["tree"]] == ["a", "a/keep.txt"]


def test_an_unknown_object_is_a_404(repo) -> None:
    with pytest.raises(GithubException) as missing:
        repo.get_git_commit("0" * 40)
    assert missing.value.status == 404
