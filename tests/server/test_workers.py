"""Workers: retries with backoff, dead letters, the GitHub client per installation, metrics."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.server import logs
from bot.server.app import create_app
from bot.server.errors import TransientError, is_transient, retry_after
from bot.server.workers import backoff_seconds
from bot.webhooks.router import Router
from tests.server.live import (
    deliver,
    factory_for,
    fake_github,
    job_state,
    live_server,
    settings_for,
    wait_for,
)

COMMENT = {
    "action": "created",
    "issue": {"number": 3},
    "comment": {"id": 1, "body": "/help"},
    "repository": {"id": 1, "name": "models", "full_name": "acme/models"},
    "installation": {"id": 77},
    "sender": {"login": "bob"},
}


def metric(client: httpx.Client, name: str, **labels: str) -> float:
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


@pytest.fixture
def json_logs():
    """Capture the JSON log lines the bot writes, as parsed objects."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def comment_router() -> Router:
    router = Router()

    @router.register("issue_comment", action="created")
    def reply(event, ctx) -> None:
        response = ctx.github.post(
            f"/repos/{event.repository.full_name}/issues/{event.issue.number}/comments",
            json={"body": "hello"},
        )
        # A 5xx from GitHub surfaces as httpx.HTTPStatusError: transient, so retried.
        response.raise_for_status()

    return router


def test_a_5xx_from_github_is_retried_until_it_succeeds(tmp_path):
    script = [(502, {}, {"message": "Bad Gateway"}), (503, {}, {"message": "Unavailable"})]
    settings = settings_for(tmp_path, max_attempts=5)
    with fake_github(script) as github:
        app = create_app(settings, router=comment_router(), github_factory=factory_for(github))
        with live_server(app) as url, httpx.Client(base_url=url) as client:
            assert deliver(client, "issue_comment", COMMENT, "retry-1").status_code == 202
            wait_for(lambda: job_state(settings.database, "retry-1") == "done")
            assert metric(client, "mlbot_jobs_total", event="issue_comment", outcome="retry") == 2
            assert metric(client, "mlbot_jobs_total", event="issue_comment", outcome="done") == 1
            assert metric(client, "mlbot_github_requests_total", event="issue_comment") == 3
            assert metric(client, "mlbot_github_errors_total", kind="transient") == 2
    posts = [r for r in github.requests if r.method == "POST"]
    assert [r.path for r in posts] == ["/repos/acme/models/issues/3/comments"] * 3
    # Each run used a client for the delivery's installation.
    assert {r.headers["X-Installation"] for r in posts} == {"77"}


def test_a_job_that_keeps_failing_is_dead_lettered_in_logs_and_metrics(tmp_path, json_logs):
    router = Router()
    runs: list[int] = []

    @router.register("issue_comment")
    def flaky(event, ctx) -> None:
        runs.append(ctx.attempt)
        raise TransientError("GitHub is having a bad day")

    settings = settings_for(tmp_path, max_attempts=3)
    app = create_app(settings, router=router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        deliver(client, "issue_comment", COMMENT, "dead-1")
        wait_for(lambda: job_state(settings.database, "dead-1") == "dead")
        assert metric(client, "mlbot_jobs_total", outcome="dead") == 1
        assert metric(client, "mlbot_queue_jobs", state="dead") == 1
    assert runs == [1, 2, 3]
    dead = [e for e in json_logs() if e["msg"] == "job dead-lettered"]
    assert len(dead) == 1
    assert dead[0]["delivery_id"] == "dead-1"
    assert dead[0]["level"] == "error"
    assert "GitHub is having a bad day" in dead[0]["error"]
    assert "Traceback" in dead[0]["exc"]


def test_a_bug_in_a_handler_is_dead_lettered_at_once(tmp_path):
    router = Router()
    runs: list[int] = []

    @router.register("issue_comment")
    def broken(event, ctx) -> None:
        runs.append(ctx.attempt)
        raise KeyError("no such thing")

    settings = settings_for(tmp_path, max_attempts=5)
    app = create_app(settings, router=router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        deliver(client, "issue_comment", COMMENT, "bug-1")
        wait_for(lambda: job_state(settings.database, "bug-1") == "dead")
    assert runs == [1]


def test_a_github_4xx_is_not_retried(tmp_path):
    settings = settings_for(tmp_path, max_attempts=5)
    with fake_github([(404, {}, {"message": "Not Found"})]) as github:
        app = create_app(settings, router=comment_router(), github_factory=factory_for(github))
        with live_server(app) as url, httpx.Client(base_url=url) as client:
            deliver(client, "issue_comment", COMMENT, "notfound-1")
            wait_for(lambda: job_state(settings.database, "notfound-1") == "dead")
            assert metric(client, "mlbot_github_errors_total", kind="permanent") == 1
    assert len(github.requests) == 1


def test_a_handler_that_does_not_use_github_builds_no_client(tmp_path):
    built: list[int | None] = []
    router = Router()
    router.register("issue_comment")(lambda event, ctx: None)
    settings = settings_for(tmp_path)
    app = create_app(settings, router=router, github_factory=built.append)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        deliver(client, "issue_comment", COMMENT, "quiet-1")
        wait_for(lambda: job_state(settings.database, "quiet-1") == "done")
    assert built == []


def test_every_handler_of_an_event_runs_specific_action_first(tmp_path):
    order: list[str] = []
    router = Router()
    router.register("issue_comment")(lambda e, c: order.append("any"))
    router.register("issue_comment", action="created")(lambda e, c: order.append("created"))
    settings = settings_for(tmp_path)
    app = create_app(settings, router=router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        deliver(client, "issue_comment", COMMENT, "two-1")
        wait_for(lambda: job_state(settings.database, "two-1") == "done")
    assert order == ["created", "any"]


def test_backoff_grows_is_capped_jittered_and_honours_retry_after(tmp_path):
    settings = settings_for(tmp_path, retry_base_seconds=2, retry_max_seconds=60)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (6, 60), (20, 60)]:
        delays = {backoff_seconds(attempts, settings) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert backoff_seconds(1, settings, server_wait=30) == 30


def test_transient_errors_are_recognised_from_any_library():
    import github

    request = httpx.Request("GET", "https://api.github.com/x")
    assert is_transient(TransientError("later"))
    assert is_transient(ConnectionResetError())
    assert is_transient(httpx.ConnectTimeout("slow", request=request))
    assert is_transient(github.GithubException(502, {"message": "bad gateway"}, {}))
    assert is_transient(github.RateLimitExceededException(403, {"message": "rate"}, {}))
    assert not is_transient(github.GithubException(404, {"message": "Not Found"}, {}))
    assert not is_transient(ValueError("bug"))
    limited = github.GithubException(429, {"message": "slow down"}, {"Retry-After": "17"})
    assert is_transient(limited)
    assert retry_after(limited) == 17
    assert retry_after(TransientError("x", retry_after=3)) == 3
