"""GitHub's own example payloads (npm @octokit/webhooks-examples) through the real endpoint.

The package keeps every example of every event in one index file:
api.github.com/index.json is a list of {name, actions, examples: [payload, ...]}.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from bot.server.app import create_app
from bot.webhooks import payloads
from bot.webhooks.router import Router
from tests.server.live import deliver, live_server, queue_counts, settings_for, wait_for

INDEX = (
    Path(__file__).resolve().parents[2]
    / "node_modules/@octokit/webhooks-examples/api.github.com/index.json"
)
SUBSCRIBED = [
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "workflow_run",
    "check_suite",
    "check_run",
    "merge_group",
    "installation",
    "ping",
    "push",
]


def all_examples() -> dict[str, list[dict]]:
    if not INDEX.exists():
        pytest.fail(f"{INDEX} is missing: run `npm ci` (make test does)")
    return {entry["name"]: entry["examples"] for entry in json.loads(INDEX.read_text())}


def examples() -> dict[str, list[dict]]:
    by_event = all_examples()
    return {event: by_event[event] for event in SUBSCRIBED}


def test_the_bot_has_a_model_for_every_subscribed_event():
    assert set(SUBSCRIBED) <= set(payloads.EVENT_MODELS)
    assert all(examples()[event] for event in SUBSCRIBED), "an event has no example"


def test_every_example_payload_is_accepted_parsed_and_routed(tmp_path):
    seen: list[tuple[str, str | None, str, object]] = []
    lock = threading.Lock()
    router = Router()

    def record(event, ctx) -> None:
        with lock:
            seen.append((ctx.event, ctx.action, ctx.delivery_id, event))

    for name in SUBSCRIBED:
        router.register(name)(record)

    settings = settings_for(tmp_path, workers=2)
    app = create_app(settings, router=router, github_factory=lambda _id: None)
    sent: dict[str, tuple[str, dict]] = {}
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        for event, payload_list in examples().items():
            for n, payload in enumerate(payload_list):
                delivery_id = f"{event}-{n}"
                response = deliver(client, event, payload, delivery_id)
                assert response.status_code == 202, (delivery_id, response.text)
                sent[delivery_id] = (event, payload)
        wait_for(
            lambda: queue_counts(settings.database)["done"] == len(sent),
            timeout=120,
            what="every example to be handled",
        )
    counts = queue_counts(settings.database)
    assert counts["dead"] == 0
    assert len(seen) == len(sent) >= 100
    for event, action, delivery_id, model in seen:
        name, payload = sent[delivery_id]
        assert event == name
        assert action == payload.get("action")
        assert type(model) is payloads.EVENT_MODELS[name]
        if payload.get("repository"):
            assert model.repository.full_name == payload["repository"]["full_name"]
        if payload.get("installation"):
            assert model.installation.id == payload["installation"]["id"]


def test_example_pings_are_answered_by_the_default_handlers(tmp_path):
    settings = settings_for(tmp_path)
    app = create_app(settings, github_factory=lambda _id: None)  # the router `mlbot serve` runs
    pings = examples()["ping"]
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        for n, payload in enumerate(pings):
            response = deliver(client, "ping", payload, f"ping-{n}")
            assert response.status_code == 202
            assert response.json()["pong"] is True
        # An event the bot does not subscribe to is acknowledged and ignored.
        watch = all_examples()["watch"][0]
        assert deliver(client, "watch", watch, "w-0").json()["status"] == "ignored"
        wait_for(lambda: queue_counts(settings.database)["done"] == len(pings))
    assert queue_counts(settings.database)["dead"] == 0
