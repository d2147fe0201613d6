"""/healthz, /readyz and /metrics over HTTP."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.server.app import create_app
from bot.server.store.sqlite import inbox_path
from bot.webhooks.router import Router
from tests.server.live import deliver, live_server, settings_for, wait_for


def test_health_and_readiness(tmp_path):
    settings = settings_for(tmp_path)
    app = create_app(settings, router=Router(), github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "ready": True,
            "checks": {"database": True, "credentials": True, "workers": True},
        }


def test_not_ready_without_credentials(tmp_path):
    settings = settings_for(tmp_path, github_token=None)
    app = create_app(settings, router=Router(), github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["credentials"] is False


def test_not_ready_when_the_database_breaks(tmp_path):
    settings = settings_for(tmp_path)
    app = create_app(settings, router=Router(), github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        with sqlite3.connect(settings.database) as conn:
            conn.execute("DROP TABLE jobs")
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] is False


def test_metrics_count_deliveries_by_event_and_outcome(tmp_path):
    router = Router()
    router.register("ping")(lambda event, ctx: None)
    settings = settings_for(tmp_path)
    app = create_app(settings, router=router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        deliver(client, "ping", {"zen": "z"}, "m-1")
        deliver(client, "ping", {"zen": "z"}, "m-1")
        deliver(client, "ping", {"zen": "z"}, "m-2", secret="forged")
        deliver(client, "made_up_event", {"a": 1}, "m-3")
        deliver(client, "made_up_event", {"a": 1}, "m-4", secret="forged")
        wait_for(lambda: 'mlbot_queue_jobs{state="done"} 1.0' in client.get("/metrics").text)
        response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float | None:
        return samples.get((name, tuple(sorted(labels.items()))))

    assert value("mlbot_webhook_deliveries_total", event="ping", outcome="queued") == 1
    assert value("mlbot_webhook_deliveries_total", event="ping", outcome="duplicate") == 1
    assert value("mlbot_webhook_deliveries_total", event="ping", outcome="unauthorized") == 1
    # Unknown event names are folded into "other": a forger cannot grow the series.
    assert value("mlbot_webhook_deliveries_total", event="other", outcome="ignored") == 1
    assert value("mlbot_webhook_deliveries_total", event="other", outcome="unauthorized") == 1
    assert value("mlbot_jobs_total", event="ping", outcome="done") == 1
    assert value("mlbot_job_duration_seconds_count", event="ping") == 1
    assert value("mlbot_queue_jobs", state="queued") == 0


def test_a_delivery_the_queue_cannot_store_gets_503_not_an_acknowledgement(tmp_path):
    router = Router()
    router.register("ping")(lambda event, ctx: None)
    settings = settings_for(tmp_path)
    app = create_app(settings, router=router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        with sqlite3.connect(inbox_path(Path(settings.database))) as conn:
            conn.execute("DROP TABLE deliveries")
        response = deliver(client, "ping", {"zen": "z"}, "lost-1")
        assert response.status_code == 503
        assert "redeliver" in response.json()["error"]
        assert client.get("/healthz").status_code == 200  # the process itself is fine
