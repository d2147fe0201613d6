"""The default-branch reader: what gates is read from the default branch, never a PR's head."""

from __future__ import annotations

import tempfile

import pytest

from bot.chatops.repository import DefaultBranch
from bot.errors import InputError
from bot.github.client import GitHubClientFactory
from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401

REPO = "acme/models"
CONFIG = """\
schema: mlbot/v1
policy: {policy}
models:
  cancer: {{path: models/cancer, target: target}}
"""
POLICY = """\
metrics:
  accuracy: {min: %s}
"""


@pytest.fixture
def github(request):
    sim = request.getfixturevalue("make_github_sim")()
    sim.create_repo(
        REPO,
        {
            ".github/mlbot.yml": CONFIG.format(policy="policies/house.yaml"),
            "policies/house.yaml": POLICY % "0.9",
        },
    )
    sim.add_collaborator(REPO, "mlbot-app", "write")
    gh = GitHubClientFactory(sim.url, token=sim.add_token("mlbot-app")).for_installation(None)
    return sim, gh


def test_a_policy_file_is_read_from_the_default_branch_not_from_a_pr_head(
    github, monkeypatch
) -> None:
    sim, gh = github
    sim.push(REPO, "loosen", {"policies/house.yaml": POLICY % "0.1"}, message="loosen")
    # Parsed from the bytes the API returned: a bot without a writable temp folder reads it.
    monkeypatch.setattr(tempfile, "tempdir", "/nonexistent/mlbot-tmp")
    policy = DefaultBranch(gh, REPO, "main").policy("cancer")
    assert policy.metrics["accuracy"].min == 0.9


@pytest.mark.parametrize("path", ["../outside.yaml", "/etc/policy.yaml"])
def test_a_policy_path_outside_the_repository_is_refused(github, path) -> None:
    sim, gh = github
    sim.push(REPO, "main", {".github/mlbot.yml": CONFIG.format(policy=path)}, message="move")
    with pytest.raises(InputError, match="must be a path inside the repository"):
        DefaultBranch(gh, REPO, "main").policy("cancer")


def test_a_missing_policy_file_and_a_missing_config_say_what_to_add(github) -> None:
    sim, gh = github
    sim.push(REPO, "main", {"policies/house.yaml": None}, message="drop the policy")
    with pytest.raises(InputError, match=r"policies/house\.yaml is missing from main"):
        DefaultBranch(gh, REPO, "main").policy("cancer")
    sim.push(REPO, "main", {".github/mlbot.yml": None}, message="drop the config")
    repo = DefaultBranch(gh, REPO, "main")
    assert repo.config is None
    with pytest.raises(InputError, match="mlbot init"):
        repo.require_config()


def test_reads_are_made_once_per_reader_and_again_after_a_write(github) -> None:
    sim, gh = github
    repo = DefaultBranch(gh, REPO, "main")
    first = repo.head
    sent = gh.request_count
    assert repo.policy("cancer") is repo.policy("cancer")
    assert repo.head == first
    reads = gh.request_count - sent
    assert repo.policy("cancer") and gh.request_count - sent == reads
    moved = sim.push(REPO, "main", {"README.md": "new\n"}, message="move main")
    repo.moved()
    assert repo.head == moved != first


def test_the_config_is_the_heads_even_when_the_branch_moves_while_it_is_read(github) -> None:
    sim, gh = github
    repo = DefaultBranch(gh, REPO, "main")
    head = repo.head
    # Read beside the tree (the contents API), yet at the head read first, not the branch.
    sim.push(REPO, "main", {".github/mlbot.yml": CONFIG.format(policy="strict")}, message="m")
    config = repo.require_config()
    assert config.policy == "policies/house.yaml"
    assert repo.head == head
    ops = [r.operation_id for r in sim.requests]
    assert "repos/get-content" in ops and "git/get-blob" not in ops


def test_a_failing_contents_api_leaves_the_config_read_through_the_tree(request) -> None:
    from bot.simulator import Faults

    faults = Faults(rate=1.0, kinds=("error",), only_paths=(f"/repos/{REPO}/contents/",))
    sim = request.getfixturevalue("make_github_sim")(faults=faults)
    sim.create_repo(REPO, {".github/mlbot.yml": CONFIG.format(policy="policies/house.yaml")})
    sim.add_collaborator(REPO, "mlbot-app", "write")
    factory = GitHubClientFactory(sim.url, token=sim.add_token("mlbot-app"), max_retries=0)
    repo = DefaultBranch(factory.for_installation(None), REPO, "main")
    assert repo.require_config().policy == "policies/house.yaml"
    assert [r.status for r in sim.requests if "/contents/" in r.path] == [502]
    assert "git/get-blob" in [r.operation_id for r in sim.requests]
    sim.push(REPO, "main", {".github/mlbot.yml": None}, message="drop the config")
    again = DefaultBranch(factory.for_installation(None), REPO, "main")
    assert again.config is None
