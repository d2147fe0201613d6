"""The example model repository end to end, on real git, DVC, MLflow and Evidently.

One temporary copy is trained once for the module; tests that alter it put
back what they changed.
"""

import json
from pathlib import Path

import pandas as pd
import pytest

from bot.cli import main
from bot.ml.example import MODEL, git, materialize

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = materialize(tmp_path_factory.mktemp("example") / "repo")
    assert main(["train", MODEL, "--repo", str(root)]) == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "train v1")
    return root


def mlbot(root, *args):
    return main([*args, "--repo", str(root)])


def read(root, name):
    return json.loads((root / name).read_text())


def test_training_writes_a_candidate_with_lineage_and_is_deterministic(repo):
    cand = read(repo, "candidate.json")
    assert cand["model"] == MODEL
    assert cand["artifact"]["path"] == "model/model.pkl"
    assert cand["artifact"]["uri"].startswith("runs:/")
    assert cand["metrics"]["accuracy"] > 0.9
    assert set(cand["slices"]["accuracy"]["groups"]) == {"north", "south", "west"}
    data = cand["lineage"]["data"]
    assert {"data/cancer.csv", "data/train.csv", "data/holdout.csv"} <= set(data)
    assert cand["lineage"]["commit"] and cand["lineage"]["mlflow_run_id"]
    assert cand["params"]["train"]["C"] == 0.05
    # The MLflow run holds the same metrics and the commit tag.
    import mlflow

    run = mlflow.get_run(cand["lineage"]["mlflow_run_id"])
    assert run.data.metrics["accuracy"] == pytest.approx(cand["metrics"]["accuracy"])
    assert run.data.tags["mlbot.data.data/train.csv"] == data["data/train.csv"]
    # Same inputs, same metrics: train again (DVC re-runs nothing but mlbot re-scores).
    out = repo / "again.json"
    assert mlbot(repo, "train", MODEL, "--out", str(out)) == 0
    again = json.loads(out.read_text())
    out.unlink()
    assert again["metrics"] == cand["metrics"]
    assert again["lineage"]["mlflow_run_id"] != cand["lineage"]["mlflow_run_id"]


def test_validate_passes_on_the_example_and_reports_every_bad_value(repo, tmp_path, capsys):
    assert mlbot(repo, "validate") == 0
    bad = pd.read_csv(repo / "data" / "holdout.csv")
    bad.loc[0, "mean_radius"] = None
    bad.loc[1, "site"] = "east"
    bad["target"] = bad["target"].astype(str)
    bad.loc[2, "target"] = "maybe"
    bad = bad.drop(columns=["worst_area"])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    (tmp_path / "empty.csv").write_text("")
    capsys.readouterr()
    code = mlbot(
        repo,
        "validate",
        "--model",
        MODEL,
        "--json",
        str(tmp_path / "bad.csv"),
        str(tmp_path / "empty.csv"),
    )
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    found = {(v["column"], v["rule"]) for v in report["violations"]}
    assert found == {
        ("mean_radius", "max_null_share"),
        ("site", "allowed"),
        ("target", "dtype"),
        ("target", "allowed"),
        ("worst_area", "required"),
        (None, "readable"),
    }


def test_validate_in_ci_writes_annotations_and_a_step_summary(repo, tmp_path, monkeypatch, capsys):
    bad = pd.read_csv(repo / "data" / "holdout.csv").assign(site="mars")
    bad.to_csv(tmp_path / "bad.csv", index=False)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert mlbot(repo, "validate", "--model", MODEL, str(tmp_path / "bad.csv")) == 1
    out = capsys.readouterr().out
    assert "::error file=" in out and "title=allowed (site)::" in out
    assert "| `" in summary.read_text() and "mars" in summary.read_text()


def test_validate_reports_a_broken_config(tmp_path):
    root = tmp_path / "r"
    (root / ".github").mkdir(parents=True)
    (root / ".github" / "mlbot.yml").write_text("models: {Bad Name: {}}\n")
    assert mlbot(root, "validate") == 1


def test_evaluate_promote_rollback_and_broken_production_artifacts(repo, capsys):
    # No production yet: thresholds only.
    assert mlbot(repo, "evaluate", MODEL) == 0
    first = read(repo, "evaluation.json")
    assert first["production"] is None
    assert "no live baseline" in json.dumps(first["verdict"])
    report = (repo / "evaluation.md").read_text()
    assert "cancer candidate passes" in report and "nothing in production yet" in report
    assert (
        mlbot(repo, "registry", "register", MODEL, "--candidate", str(repo / "candidate.json")) == 0
    )
    assert mlbot(repo, "registry", "promote", MODEL, "v0.1.0", "--to", "staging") == 0
    assert mlbot(repo, "registry", "promote", MODEL, "v0.1.0", "--to", "production") == 0

    # Retrain with other params: the working model file is overwritten ...
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("C: 0.05", "C: 1.0"))
    git(repo, "commit", "-q", "-am", "C=1.0")
    assert mlbot(repo, "train", MODEL) == 0
    # ... and production v0.1.0 is still fetched (from MLflow) and compared on the same rows.
    assert mlbot(repo, "evaluate", MODEL) == 0
    second = read(repo, "evaluation.json")
    assert second["production"]["version"] == "v0.1.0"
    assert second["production"]["metrics"] == first["candidate"]["metrics"]
    assert second["holdout"]["digest"] == first["holdout"]["digest"]
    assert set(second["diff"]) <= set(second["candidate"]["metrics"])

    # A corrupted or missing production artifact is an error (exit 2), never a pass.
    from bot.ml import artifacts
    from bot.registry.git_store import GitStore

    store = GitStore(repo)
    record = store.read_model(MODEL, store.head()).record("v0.1.0")
    assert record.artifact.uri.startswith("runs:/")
    import mlflow

    run = mlflow.get_run(record.lineage.mlflow_run_id)
    original = Path(run.info.artifact_uri.removeprefix("file://")) / "model" / "model.pkl"
    assert artifacts.file_digest(original)[0] == record.artifact.sha256
    keep = original.read_bytes()
    try:
        capsys.readouterr()
        original.write_bytes(keep[:-10] + b"0123456789")
        assert mlbot(repo, "evaluate", MODEL) == 2
        assert "does not match its recorded digest" in capsys.readouterr().err
        original.unlink()
        assert mlbot(repo, "evaluate", MODEL) == 2
        err = capsys.readouterr().err
        assert "production cancer v0.1.0" in err or "v0.1.0" in err
    finally:
        original.write_bytes(keep)

    # A policy the candidate cannot meet fails the gate with exit 1.
    config = repo / ".github" / "mlbot.yml"
    text = config.read_text()
    try:
        config.write_text(text.replace("accuracy: {min: 0.9,", "accuracy: {min: 0.999,"))
        assert mlbot(repo, "evaluate", MODEL) == 1
        failed = read(repo, "evaluation.json")["verdict"]
        assert not failed["passed"]
        assert any(
            c["name"] == "metric:accuracy" and c["status"] == "fail" for c in failed["checks"]
        )
    finally:
        config.write_text(text)

    # Promote the retrained model, roll back, and write the model card.
    assert (
        mlbot(repo, "registry", "register", MODEL, "--candidate", str(repo / "candidate.json")) == 0
    )
    assert mlbot(repo, "registry", "promote", MODEL, "v0.2.0", "--to", "staging") == 0
    assert mlbot(repo, "registry", "promote", MODEL, "v0.2.0", "--to", "production") == 0
    assert mlbot(repo, "registry", "rollback", MODEL) == 0
    assert mlbot(repo, "model-card", MODEL, "--evaluation", str(repo / "evaluation.json")) == 0
    card = (repo / "MODEL_CARD.md").read_text()
    assert "# Model card: cancer v0.1.0" in card
    assert "live in | production" in card
    assert "Decision support" in card and "synthetic" in card
    assert record.lineage.mlflow_run_id in card
    # The evaluation is the retrained candidate's, not v0.1.0's: the card leaves it out.
    assert "The evaluation given is of another artifact (sha256 " in card
    assert "## Evaluation of" not in card
    assert "| Metric | Value | Measured on | Gate |" in card and "| holdout |" in card


def test_drift_against_the_live_versions_reference_data(repo, tmp_path, capsys):
    if not (repo / "registry" / MODEL / "stages.yaml").exists():
        pytest.skip("needs the promotion test to have run first")
    current = pd.read_csv(repo / "data" / "holdout.csv").drop(columns=["target"])
    for column in (
        "mean_radius",
        "mean_area",
        "mean_perimeter",
        "worst_radius",
        "worst_area",
        "worst_perimeter",
        "mean_texture",
        "worst_texture",
        "mean_concavity",
        "worst_concavity",
    ):
        current[column] = current[column] * 1.4
    current.to_csv(tmp_path / "current.csv", index=False)
    out = tmp_path / "drift"
    capsys.readouterr()
    code = mlbot(repo, "drift", "--current", str(tmp_path / "current.csv"), "--out-dir", str(out))
    assert code == 1
    data = json.loads((out / "drift.json").read_text())
    assert data["model"] == MODEL and data["live_version"] == "v0.1.0"
    assert data["reference"] == "data/train.csv"
    assert data["dataset_drift"] and "target" not in {c["column"] for c in data["columns"]}
    body = (out / "drift.md").read_text()
    assert "cancer: data drift in" in body and "v0.1.0" in body and "sampling" in body
