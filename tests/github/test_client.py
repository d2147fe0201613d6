"""The GitHub adapter against the simulator: retries, rate limits, counting, App tokens."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import pytest
from github import GithubException

from bot.errors import InputError
from bot.github.client import GitHub, GitHubClientFactory, RateLimited
from bot.simulator import Faults, GitHubSimulator


class SleepRecorder:
    """Stands in for the `time` module inside urllib3's retry, recording each sleep."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    recorder = SleepRecorder()
    monkeypatch.setattr("urllib3.util.retry.time", recorder)
    return recorder


@pytest.fixture
def sim(make_github_sim: Callable[..., GitHubSimulator]) -> GitHubSimulator:
    sim = make_github_sim(faults=Faults(timeout_delay=1.3, retry_after=1))
    sim.create_repo("acme/models")
    sim.add_collaborator("acme/models", "alice", "write")
    return sim


def token_client(sim: GitHubSimulator, **kwargs) -> GitHub:
    options = {"timeout": 1, "backoff_factor": 0.0, "max_retries": 6, **kwargs}
    return GitHubClientFactory(
        sim.url, token=sim.add_token("mlbot-ci"), **options
    ).for_installation(None)


def test_calls_succeed_through_5xx_rate_limits_and_timeouts(
    sim: GitHubSimulator, sleeps: SleepRecorder
) -> None:
    gh = token_client(sim)
    sim.faults.script("error", "rate_limit", "too_many_requests", "timeout")
    assert gh.permission("acme/models", "alice") == "write"
    # Five requests reached the simulator: four faults, then the answer.
    assert [r.fault for r in sim.requests] == [
        "error",
        "rate_limit",
        "too_many_requests",
        "timeout",
        None,
    ]
    assert gh.request_count == len(sim.requests) == 5
    assert gh.error_count == 4
    assert sleeps.sleeps.count(1.0) == 2  # both rate limits' Retry-After were honoured


def test_random_faults_on_reads_and_writes(make_github_sim, sleeps: SleepRecorder) -> None:
    sim = make_github_sim(
        # One timeout for sure (each costs the client a 1 s wait), then 5xx and rate limits
        # at random on a third of the requests.
        faults=Faults(
            rate=0.35, seed=3, kinds=("error", "rate_limit"), timeout_delay=1.3, retry_after=0
        )
    )
    sim.faults.script("timeout")
    sim.create_repo("acme/models")
    number = sim.create_issue("acme/models", "Drift", user="alice")
    gh = token_client(sim, max_retries=10)
    repo = gh.repo("acme/models")
    issue = repo.get_issue(number)
    for i in range(5):
        comment = issue.create_comment(f"note {i}")
        comment.edit(f"note {i} (edited)")
    bodies = [c.body for c in gh.iter_issue_comments("acme/models", number)]
    assert bodies == [f"note {i} (edited)" for i in range(5)]  # no duplicate, nothing lost
    faults = [r.fault for r in sim.requests if r.fault]
    assert {"error", "rate_limit", "timeout"} <= set(faults)  # a real mix, not a clean run
    assert gh.request_count == len(sim.requests)
    assert gh.error_count == len(faults)


def test_app_installation_tokens_are_cached_until_near_expiry(sim: GitHubSimulator) -> None:
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme")
    now = [time.time()]
    factory = GitHubClientFactory(
        sim.url, app_id=app.id, private_key=app.private_key_pem, clock=lambda: now[0]
    )
    first = factory.for_installation(inst.id)
    second = factory.for_installation(inst.id)
    assert first.permission("acme/models", "alice") == "write"
    assert second.permission("acme/models", "alice") == "write"
    assert sim.count("apps/create-installation-access-token") == 1
    assert factory.token_counter.requests == 1

    now[0] += 3600 - 299  # inside the refresh margin before the 1 h expiry
    factory.for_installation(inst.id).permission("acme/models", "alice")
    assert sim.count("apps/create-installation-access-token") == 2
    # Each job's client counts only its own requests, never the token fetches.
    assert first.request_count == 1


def test_a_jwt_signed_with_the_wrong_key_is_refused(sim: GitHubSimulator) -> None:
    app = sim.create_app("mlbot")
    other = sim.create_app("impostor")
    inst = sim.install(app, "acme")
    factory = GitHubClientFactory(sim.url, app_id=app.id, private_key=other.private_key_pem)
    with pytest.raises(GithubException) as refused:
        factory.for_installation(inst.id)
    assert refused.value.status == 401


def test_missing_credentials_are_an_input_error(sim: GitHubSimulator) -> None:
    with pytest.raises(InputError, match="MLBOT_GITHUB_TOKEN"):
        GitHubClientFactory(sim.url)
    app = sim.create_app("mlbot")
    factory = GitHubClientFactory(sim.url, app_id=app.id, private_key=app.private_key_pem)
    with pytest.raises(InputError, match="installation"):
        factory.for_installation(None)


def test_no_secret_reaches_a_log_or_a_repr(
    sim: GitHubSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme")
    caplog.set_level(logging.DEBUG)
    factory = GitHubClientFactory(sim.url, app_id=app.id, private_key=app.private_key_pem)
    gh = factory.for_installation(inst.id)
    gh.permission("acme/models", "alice")
    tokens = [t for t in sim.tokens if t.startswith("ghs_")]
    assert tokens
    seen = caplog.text + repr(factory) + repr(gh) + repr(factory._tokens)
    for secret in [*tokens, app.private_key_pem.splitlines()[1]]:
        assert secret not in seen


def test_upsert_finds_the_marked_comment_on_a_later_page(sim: GitHubSimulator) -> None:
    number = sim.create_issue("acme/models", "PR-like thread", user="alice")
    for i in range(150):
        if i == 120:  # the bot's own sticky comment, far down the thread
            sim.comment("acme/models", number, "<!-- mlbot:metrics fraud --> old", user="mlbot-ci")
        else:
            sim.comment("acme/models", number, f"chatter {i}", user="alice")
    gh = token_client(sim)  # acts as mlbot-ci
    comment, outcome = gh.upsert_comment(
        "acme/models", number, "<!-- mlbot:metrics fraud -->", "<!-- mlbot:metrics fraud --> new"
    )
    assert outcome == "updated"
    assert comment.body == "<!-- mlbot:metrics fraud --> new"
    assert len(sim.comments_on("acme/models", number)) == 150  # edited, not added
    assert sim.comments_on("acme/models", number)[120].body.endswith("new")
    assert sim.count("issues/list-comments") == 2  # 100 a page
    _, again = gh.upsert_comment(
        "acme/models", number, "<!-- mlbot:metrics fraud -->", "<!-- mlbot:metrics fraud --> new"
    )
    assert again == "unchanged"
    _, other = gh.upsert_comment(
        "acme/models", number, "<!-- mlbot:metrics churn -->", "<!-- mlbot:metrics churn --> t"
    )
    assert other == "created"
    with pytest.raises(ValueError, match="marker"):
        gh.upsert_comment("acme/models", number, "<!-- m -->", "no marker here")


def test_pages_reads_every_page_until_a_short_one(sim: GitHubSimulator) -> None:
    number = sim.create_issue("acme/models", "long thread", user="alice")
    for i in range(205):
        sim.comment("acme/models", number, f"note {i}", user="alice")
    gh = token_client(sim)
    path = f"/repos/acme/models/issues/{number}/comments"
    bodies = [c["body"] for c in gh.pages(path)]
    assert bodies == [f"note {i}" for i in range(205)]
    assert sim.count("issues/list-comments") == 3
    assert len(list(gh.pages(path, per_page=50, max_pages=2))) == 100
    assert sim.count("issues/list-comments") == 5


def test_an_exhausted_rate_limit_waits_for_the_reset(sim: GitHubSimulator) -> None:
    # Without conditional requests: a repeated read would be a 304, which spends nothing.
    gh = token_client(sim, cache=False)
    slept: list[float] = []
    gh._sleep = slept.append
    gh.permission("acme/models", "alice")
    sim.rate_limit_remaining = 1  # the last request of the hour
    sim.rate_limit_reset = gh._clock() + 30
    gh.permission("acme/models", "alice")  # answered, with "0 left until reset"
    assert slept == []
    sim.rate_limit_remaining = 4999
    assert gh.api.get_repo("acme/models").name == "models"  # any request waits first
    assert len(slept) == 1 and 29 <= slept[0] <= 32
    assert gh.repo("acme/models").get_issues().totalCount == 0  # the lazy client too
    sim.rate_limit_remaining = 1
    sim.rate_limit_reset = gh._clock() + 3600
    gh.permission("acme/models", "alice")
    with pytest.raises(RateLimited, match="rate limit"):
        gh.api.get_repo("acme/models")
    assert len(slept) == 1


def test_artifacts_and_teams(sim: GitHubSimulator) -> None:
    sim.create_team("acme", "ml-owners", ["alice", "dave"])
    head = sim.repo("acme/models").store.ref_sha("heads/main")
    run = sim.create_workflow_run(
        "acme/models",
        name="model",
        head_sha=head,
        head_branch="main",
        artifacts={"evaluation": {"evaluation.json": json.dumps({"auc": 0.9})}},
    )
    [artifact_id] = sim.workflow_runs[run].artifact_ids
    gh = token_client(sim)
    assert json.loads(gh.read_artifact_file("acme/models", artifact_id, "evaluation.json")) == {
        "auc": 0.9
    }
    with pytest.raises(InputError, match=r"has no file 'missing\.json'"):
        gh.read_artifact_file("acme/models", artifact_id, "missing.json")
    assert gh.team_members("acme", "ml-owners") == ["alice", "dave"]
    assert gh.is_team_member("acme", "ml-owners", "dave") is True
    assert gh.is_team_member("acme", "ml-owners", "bob") is False
    sim.user("bob")
    assert gh.permission("acme/models", "bob") == "read"
    assert gh.permission("acme/models", "nobody-at-all") == "none"
    with gh:
        assert gh.repo("acme/models").get_issues().totalCount == 0
    # Closed: the next request opens a fresh connection and still works.
    assert gh.permission("acme/models", "alice") == "write"
