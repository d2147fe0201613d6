"""The App manifest and the Dockerfile say what the bot needs, and no more."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.webhooks import payloads

ROOT = Path(__file__).resolve().parents[2]


def manifest() -> dict:
    return yaml.safe_load((ROOT / "app.yml").read_text())


def test_the_manifest_subscribes_only_to_events_the_bot_models():
    events = manifest()["default_events"]
    assert len(events) == len(set(events))
    assert set(events) <= set(payloads.EVENT_MODELS)
    # Sent to every App anyway; listing them is an error on registration.
    assert not {"installation", "ping"} & set(events)


def test_the_manifest_asks_for_least_privilege():
    permissions = manifest()["default_permissions"]
    assert set(permissions.values()) <= {"read", "write"}
    writes = {name for name, level in permissions.items() if level == "write"}
    assert writes == {"contents", "pull_requests", "issues", "checks", "deployments"}
    for never in ("administration", "secrets", "workflows", "organization_administration"):
        assert never not in permissions


def test_the_manifest_subscribes_to_every_event_the_bot_handles():
    from bot.webhooks.handlers import router

    assert router.events() - {"ping"} <= set(manifest()["default_events"])


def test_the_manifest_points_the_webhook_at_the_bots_endpoint():
    hook = manifest()["hook_attributes"]
    assert hook["url"].endswith("/webhook")
    assert hook["active"] is True


def test_the_image_runs_mlbot_serve_as_a_non_root_user_without_ml_extras():
    text = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["mlbot", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text
    assert "USER mlbot" in text
    assert "[ml" not in text
    assert "HEALTHCHECK" in text and "/healthz" in text
