"""The App manifest, the Dockerfile, docker-compose.yml and the Kubernetes manifests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
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


def test_the_image_can_reach_postgresql():
    assert "[postgres]" in (ROOT / "Dockerfile").read_text()


# -- several replicas: docker compose and Kubernetes ----------------------------------


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_fits_the_compose_specification():
    import jsonschema
    from check_jsonschema.builtin_schemas import get_builtin_schema

    jsonschema.Draft202012Validator(get_builtin_schema("vendor.compose-spec")).validate(compose())


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker")
    else True,
    reason="no docker compose client here; the file is checked against the specification",
)
def test_docker_compose_accepts_the_file(tmp_path):
    (tmp_path / "secrets").mkdir()
    env = {"MLBOT_DB_PASSWORD": "pw", "MLBOT_WEBHOOK_SECRET": "s", "MLBOT_APP_ID": "1"}
    result = subprocess.run(
        ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_two_replicas_on_one_postgresql_and_writes_no_secret():
    services = compose()["services"]
    bot = services["bot"]
    assert bot["deploy"]["replicas"] >= 2
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    database = bot["environment"]["MLBOT_DATABASE"]
    assert database.startswith("postgresql://") and "@postgres:5432/" in database
    text = (ROOT / "docker-compose.yml").read_text()
    # Every secret is a required variable (`:?`), never a value in the file.
    for name in ("MLBOT_DB_PASSWORD", "MLBOT_WEBHOOK_SECRET", "MLBOT_APP_ID"):
        assert f"${{{name}:?" in text
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")


def manifests() -> list[dict]:
    found = []
    for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def test_the_kubernetes_manifests_fit_the_kubernetes_schemas():
    import kubernetes_validate

    for doc in manifests():
        if doc["kind"] == "Kustomization":
            continue  # kustomize's own file, not an API object
        kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_the_deployment_probes_the_bot_and_takes_its_settings_from_a_secret():
    by_kind = {doc["kind"]: doc for doc in manifests()}
    deployment, service = by_kind["Deployment"], by_kind["Service"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in container["env"]}
    for name in ("MLBOT_DATABASE", "MLBOT_WEBHOOK_SECRET", "MLBOT_APP_ID"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "mlbot", name
    assert not any("value" in e and "SECRET" in e["name"] for e in container["env"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # The Service reaches these pods, on the port the bot listens on.
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in {p["name"] for p in container["ports"]}
    kustomization = by_kind["Kustomization"]
    assert sorted(kustomization["resources"]) == ["deployment.yaml", "service.yaml"]
