"""The Alertmanager payload, the per-alert jobs (`bot.incidents.alerts`), the bearer check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.incidents import alerts
from bot.server.alerts import bearer_ok

FIXTURE = Path(__file__).parent / "fixtures" / "alertmanager_v4.json"


def test_alertmanagers_documented_payload_parses_and_names_its_model() -> None:
    note = alerts.parse(FIXTURE.read_bytes())
    assert note.version == "4" and len(note.alerts) == 2
    labelled, unlabelled = note.alerts
    assert alerts.target_of(labelled) == alerts.Target("acme/models", "cancer", None)
    assert alerts.target_of(unlabelled) is None


@pytest.mark.parametrize(
    "labels",
    [
        {"mlbot_repository": "acme/models", "mlbot_model": "Cancer"},  # not a model name
        {"mlbot_repository": "acme/models/../x", "mlbot_model": "cancer"},
        {"mlbot_repository": "acme/models", "mlbot_model": "cancer", "mlbot_stage": "$(x)"},
        {"mlbot_model": "cancer"},
    ],
)
def test_malformed_labels_are_not_guessed(labels: dict[str, str]) -> None:
    alert = alerts.Alert(status="firing", labels=labels)
    assert alerts.target_of(alert) is None


def test_repeats_are_one_job_and_resolution_or_refiring_are_new() -> None:
    note = alerts.parse(FIXTURE.read_bytes())
    alert = note.alerts[0]
    same = alerts.job_id(note.groupKey, alert)
    assert alerts.job_id(note.groupKey, alert.model_copy()) == same
    resolved = alert.model_copy(update={"status": "resolved"})
    refired = alert.model_copy(update={"startsAt": "2026-12-02T04:00:00Z"})
    other_group = alerts.job_id("{}:{other}", alert)
    ids = {same, alerts.job_id(note.groupKey, resolved), alerts.job_id(note.groupKey, refired)}
    assert len(ids | {other_group}) == 4
    assert all(len(i) < 100 and i.replace("-", "").isalnum() for i in ids)


def test_other_versions_and_shapes_are_refused_with_where() -> None:
    doc = json.loads(FIXTURE.read_text())
    doc["version"] = "3"
    with pytest.raises(ValueError, match="version"):
        alerts.parse(json.dumps(doc).encode())
    with pytest.raises(ValueError):
        alerts.parse(b"[]")


def test_bearer_tokens_any_of_several_and_nothing_else() -> None:
    tokens = [b"old", b"new"]
    assert bearer_ok("Bearer new", tokens) and bearer_ok("bearer old", tokens)
    for header in (None, "", "Bearer", "Bearer ne", "Bearer newx", "Basic new", "new"):
        assert not bearer_ok(header, tokens), header
    assert not bearer_ok("Bearer ", [])


def test_grafanas_webhook_contact_point_shape_is_taken_too() -> None:
    """Grafana's documented webhook body: Alertmanager's fields plus its own, version "1"."""
    doc = json.loads(FIXTURE.read_text())
    doc.update(version="1", orgId=1, state="alerting", title="[FIRING:1]", message="...")
    doc["alerts"][0].update(silenceURL="https://grafana.example/silence", values={"B": 44.2})
    note = alerts.parse(json.dumps(doc).encode())
    assert alerts.target_of(note.alerts[0]) == alerts.Target("acme/models", "cancer", None)
