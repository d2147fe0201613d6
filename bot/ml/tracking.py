"""MLflow, kept local, quiet and offline unless the user points it elsewhere.

Default: a file store under `<repo>/.mlbot/mlruns`; `MLFLOW_TRACKING_URI`
wins when set. MLflow 3 refuses file stores unless told they are wanted,
which they are here: no server, nothing to migrate, readable by `mlflow ui`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

QUIET = {
    "MLFLOW_ALLOW_FILE_STORE": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_TRACKING_TIMEOUT": "10",
    "GIT_PYTHON_REFRESH": "quiet",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}


def default_uri(root: Path) -> str:
    return (root / ".mlbot" / "mlruns").resolve().as_uri()


def tracking_uri(root: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or default_uri(root)


def configure(root: Path) -> str:
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    import logging

    import mlflow

    # mlflow sets its own logger levels on import, so quieten it afterwards.
    logging.getLogger("mlflow").setLevel(logging.ERROR)

    uri = tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    return uri


def ui_command(root: Path) -> str:
    return f"MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri {tracking_uri(root)}"


@dataclass(frozen=True)
class Run:
    run_id: str
    experiment: str
    artifact_uri: str


def flat_params(params: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_params(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


class TrainingRun:
    """One MLflow run around one training: opened before, filled and closed after."""

    def __init__(self, root: Path, experiment: str) -> None:
        configure(root)
        import mlflow

        self._mlflow = mlflow
        mlflow.set_experiment(experiment)
        self._run = mlflow.start_run()
        self.run = Run(self._run.info.run_id, experiment, self._run.info.artifact_uri)

    def env(self) -> dict[str, str]:
        """Environment for the training command, so it may log into this same run."""
        return {
            "MLFLOW_RUN_ID": self.run.run_id,
            "MLFLOW_TRACKING_URI": self._mlflow.get_tracking_uri(),
            **QUIET,
        }

    def log(
        self,
        *,
        params: Mapping[str, object],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        artifact: Path,
        artifact_dir: str = "model",
    ) -> str:
        mlflow = self._mlflow
        flat = flat_params(params)
        if flat:
            mlflow.log_params({k[:250]: v[:6000] for k, v in flat.items()})
        numeric = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
        if numeric:
            mlflow.log_metrics(numeric)
        mlflow.set_tags(dict(tags))
        mlflow.log_artifact(str(artifact), artifact_path=artifact_dir)
        return f"runs:/{self.run.run_id}/{artifact_dir}/{artifact.name}"

    def finish(self, ok: bool) -> None:
        self._mlflow.end_run(status="FINISHED" if ok else "FAILED")
