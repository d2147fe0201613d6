"""The MLflow Model Registry mirror, against a real `mlflow server` (SQLite) on loopback.

Every registry write goes through the real CLI on a real git repository; after
each one, MLflow's aliases and tags are compared with what git says.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import make_repo
from tests.mlflow_server import free_port

MODEL = "churn-model"


@pytest.fixture(scope="module")
def server(mlflow_server):
    return mlflow_server


@pytest.fixture(scope="module")
def client(server):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=server, registry_uri=server)


def trained_run(client, tmp_path: Path, name: str) -> str:
    """A real MLflow run with the model file under artifacts/model, as training leaves it."""
    experiment = client.get_experiment_by_name("mirror-tests")
    exp_id = experiment.experiment_id if experiment else client.create_experiment("mirror-tests")
    run = client.create_run(exp_id, run_name=name)
    model = tmp_path / f"{name}.bin"
    model.write_text(f"weights of {name}")
    client.log_artifact(run.info.run_id, str(model), "model")
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def mirrored_repo(tmp_path, capsys, uri: str, model: str = MODEL, extra: str = ""):
    repo = make_repo(tmp_path / "repo", capsys)
    config = repo.root / ".github" / "mlbot.yml"
    config.write_text(
        config.read_text().replace(
            "    metrics: metrics.json\n",
            "    metrics: metrics.json\n"
            f"    mlflow:\n      registered_model: {model}\n      tracking_uri: {uri}\n"
            f"      aliases: {{production: champion}}\n{extra}",
        )
    )
    repo.git("commit", "-qam", "mirror churn to MLflow")
    return repo


def register(repo, tmp_path: Path, run_id: str | None, content: str) -> dict:
    art = repo.artifact(content)
    candidate = tmp_path / "candidate.json"
    candidate.write_text(
        json.dumps(
            {
                "artifact": {"path": str(art)},
                "metrics": {"accuracy": 0.9},
                "lineage": {"mlflow_run_id": run_id},
            }
        )
    )
    return repo.ok("registry", "register", "churn", "--candidate", str(candidate), "--json").json()


def mlflow_state(client, name: str = MODEL) -> tuple[dict[str, str], dict[str, str]]:
    """(alias -> mlbot version, mlbot version -> MLflow tags) as MLflow holds them."""
    versions = {mv.version: mv for mv in client.search_model_versions(f"name='{name}'")}
    aliases = client.get_registered_model(name).aliases
    return (
        {alias: versions[number].tags["mlbot.version"] for alias, number in aliases.items()},
        {
            mv.tags["mlbot.version"]: mv.tags
            for mv in versions.values()
            if "mlbot.version" in mv.tags
        },
    )


def git_aliases(repo) -> dict[str, str]:
    stages = repo.ok("registry", "show", "churn", "--json").json()["models"]["churn"]["stages"]
    names = {"production": "champion"}
    return {names.get(stage, stage): version for stage, version in stages.items() if version}


def test_the_alias_follows_every_promotion_and_rollback(tmp_path, capsys, server, client):
    repo = mirrored_repo(tmp_path, capsys, server)
    run1 = trained_run(client, tmp_path, "run1")
    run2 = trained_run(client, tmp_path, "run2")
    run3 = trained_run(client, tmp_path, "run3")

    out = register(repo, tmp_path, run1, "weights one")
    assert out["notes"] == ["MLflow: v0.1.0 created as #1"]
    first = client.get_model_version(MODEL, "1")
    assert first.run_id == run1 and first.source == f"runs:/{run1}/model"
    assert first.tags["mlbot.commit"] == repo.head()

    # Training registered run2 itself: mlbot links that version instead of adding one.
    client.create_model_version(MODEL, f"runs:/{run2}/model", run_id=run2)
    assert register(repo, tmp_path, run2, "weights two")["notes"] == ["MLflow: v0.2.0 linked to #2"]
    register(repo, tmp_path, run3, "weights three")

    steps = [
        ("promote", "v0.1.0", "staging"),
        ("promote", "v0.1.0", "production"),
        ("promote", "v0.2.0", "staging"),
        ("promote", "v0.2.0", "production"),
        ("rollback", None, "production"),
        ("promote", "v0.3.0", "staging"),
        ("rollback", None, "staging"),
    ]
    for action, version, stage in steps:
        if action == "promote":
            res = repo.ok("registry", "promote", "churn", version, "--to", stage, "--json")
        else:
            res = repo.ok("registry", "rollback", "churn", "--stage", stage, "--json")
        assert all("FAILED" not in note for note in res.json()["notes"]), res.json()["notes"]
        aliases, _ = mlflow_state(client)
        assert aliases == git_aliases(repo), f"after {action} {version or ''} {stage}"
    assert mlflow_state(client)[0] == {"champion": "v0.1.0", "staging": "v0.2.0"}

    repo.ok("registry", "deprecate", "churn", "v0.3.0")
    tags = mlflow_state(client)[1]
    assert tags["v0.3.0"]["mlbot.deprecated"] == "true"
    assert "mlbot.deprecated" not in tags["v0.1.0"]
    # Three mlbot versions, three MLflow versions: nothing was created twice.
    assert len(client.search_model_versions(f"name='{MODEL}'")) == 3
    assert repo.ok("mlflow", "sync").out.strip() == "churn: MLflow: already in sync"


def test_a_dead_server_never_blocks_the_registry_and_sync_catches_up(
    tmp_path, capsys, server, client
):
    dead = f"http://127.0.0.1:{free_port()}"
    repo = mirrored_repo(tmp_path, capsys, dead, model="churn-offline")
    run = trained_run(client, tmp_path, "offline")
    out = register(repo, tmp_path, run, "weights offline")
    assert out["version"] == "v0.1.0" and repo.git("tag", "--list", "churn@*").split() == [
        "churn@v0.1.0"
    ]
    (note,) = out["notes"]
    assert note.startswith("MLflow: FAILED get registered model") and "after 3 attempts" in note
    assert "mlbot mlflow sync churn" in note and dead not in note
    promoted = repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging", "--json")
    assert "FAILED" in promoted.json()["notes"][0]
    assert git_aliases(repo) == {"staging": "v0.1.0"}
    assert repo.mlbot("mlflow", "sync").code == 1  # still down: reported, exit 1

    # The server is back (here: the config names the live one): one sync converges.
    config = repo.root / ".github" / "mlbot.yml"
    config.write_text(config.read_text().replace(dead, server))
    repo.git("commit", "-qam", "MLflow is back")
    res = repo.ok("mlflow", "sync", "churn", "--json").json()
    assert res["churn"]["ok"] is True
    assert mlflow_state(client, "churn-offline")[0] == {"staging": "v0.1.0"}


def test_a_version_without_a_run_takes_the_alias_away_rather_than_leave_it_wrong(
    tmp_path, capsys, server, client
):
    repo = mirrored_repo(tmp_path, capsys, server, model="churn-norun")
    register(repo, tmp_path, trained_run(client, tmp_path, "norun1"), "weights a")
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    assert mlflow_state(client, "churn-norun")[0] == {"staging": "v0.1.0"}
    register(repo, tmp_path, None, "weights b")  # trained outside MLflow
    res = repo.ok("registry", "promote", "churn", "v0.2.0", "--to", "staging", "--json").json()
    (note,) = res["notes"]
    assert "alias staging removed" in note and "v0.2.0 names no MLflow run" in note
    assert mlflow_state(client, "churn-norun")[0] == {}
