"""Artifact, metrics and params declarations read from artifacts.yaml, dvc.yaml, params.yaml."""

from __future__ import annotations

from bot.registry import declarations

DVC = b"""\
artifacts:
  churn: {path: models/churn.pkl, type: model, desc: churn classifier}
  fraud: {type: model}
metrics: [reports/metrics.json]
stages:
  train:
    cmd: python train.py
    metrics:
      - eval/scores.yaml: {cache: false}
      - reports/metrics.json
"""


def test_dvc_yaml_artifacts_metrics_and_stage_outputs():
    found = declarations.parse({"dvc.yaml": DVC, "params.yaml": b"lr: 0.1\n"})
    churn = found.artifacts["churn"]
    assert (churn.path, churn.type, churn.description, churn.source) == (
        "models/churn.pkl",
        "model",
        "churn classifier",
        "dvc.yaml",
    )
    assert found.artifacts["fraud"].path is None
    assert found.metrics == ("reports/metrics.json", "eval/scores.yaml")
    assert found.params == ("params.yaml",)


def test_gtos_artifacts_yaml_wins_where_both_declare_a_name():
    found = declarations.parse(
        {"dvc.yaml": DVC, "artifacts.yaml": b"churn:\n  path: gto/churn.pkl\n  type: model\n"}
    )
    assert (found.artifacts["churn"].path, found.artifacts["churn"].source) == (
        "gto/churn.pkl",
        "artifacts.yaml",
    )
    assert found.params == ()


def test_files_that_do_not_parse_declare_nothing():
    found = declarations.parse({"dvc.yaml": b"artifacts: [unclosed", "artifacts.yaml": b"- a\n"})
    assert (found.artifacts, found.metrics, found.params) == ({}, (), ())


def test_sections_of_the_wrong_shape_declare_nothing():
    found = declarations.parse(
        {"dvc.yaml": b"artifacts: [churn]\nstages: [train]\nmetrics: m.json\n"}
    )
    assert (found.artifacts, found.metrics) == ({}, ())
