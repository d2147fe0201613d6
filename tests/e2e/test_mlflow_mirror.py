"""A chat-ops promotion moves the MLflow alias: the bot's registry writes mirror too.

The world's bot, through the GitHub simulator, against a real `mlflow server`.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MLBOT_YML, REPO, World

MODEL = "cancer-e2e"


@pytest.fixture
def client(mlflow_server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_server, registry_uri=mlflow_server)


def register_with_run(world: World, run_id: str) -> None:
    """cancer v1.3.0 registered on main, its record naming the MLflow run it came from."""
    from bot.config.load import parse_config, policy_for
    from bot.registry import audit, schema
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity

    config = parse_config(MLBOT_YML)
    registry = Registry(
        GitStore(world.git_dir, branch="main"),
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@users.noreply.example"),
    )
    registry.register(
        "cancer",
        version="v1.3.0",
        artifact=schema.Artifact(
            uri="s3://models/cancer/v1.3.0/model.pkl", sha256="d" * 64, size=9
        ),
        metrics={"accuracy": 0.96, "roc_auc": 0.98},
        lineage=schema.Lineage(mlflow_run_id=run_id),
        audit_info=audit.Audit(requested_by="alice"),
    )


def test_a_promote_command_moves_the_mlflow_alias(world: World, mlflow_server, client, tmp_path):
    mirrored = MLBOT_YML.replace(
        "    description: Breast-cancer biopsy classifier.\n",
        "    description: Breast-cancer biopsy classifier.\n"
        f"    mlflow: {{registered_model: {MODEL}, tracking_uri: '{mlflow_server}'}}\n",
    )
    world.sim.push(REPO, "main", {".github/mlbot.yml": mirrored}, message="mirror", author="alice")
    experiment = client.create_experiment("e2e-mirror")
    run = client.create_run(experiment).info.run_id
    model = tmp_path / "model.pkl"
    model.write_bytes(b"weights")
    client.log_artifact(run, str(model), "model")
    register_with_run(world, run)

    issue = world.issue("Ship the new cancer model", user="alice")
    world.comment(issue, "/promote cancer v1.3.0 to staging", user="alice")
    world.settle()

    reply = world.last_reply(issue)
    assert "Promoted cancer v1.3.0 to staging" in reply
    assert "MLflow: v1.3.0 created as #1; alias staging → v1.3.0 (#1)" in reply
    assert world.live()["staging"] == "v1.3.0"
    assert "@staging" not in reply and "@production" not in reply  # aliases mention nobody
    staged = client.get_model_version_by_alias(MODEL, "staging")
    assert (staged.run_id, staged.tags["mlbot.version"]) == (run, "v1.3.0")
    assert staged.tags["mlbot.commit"] == world.main_sha()
    # Production (v1.1.0) was live before the mirror existed and names no run: it is
    # reported, and no alias claims it.
    assert "alias production cannot point at v1.1.0" in reply
    assert "production" not in client.get_registered_model(MODEL).aliases
