"""`mlbot train`: run the model's training under MLflow and write candidate.json.

The training command (or `dvc repro <stage>`) runs as a subprocess with the
MLflow run's id in its environment, so a script may log more into the same
run. mlbot itself logs what it can vouch for: params, metrics, the artifact,
the commit and the data digests; then it scores the model on the holdout set
with the same code `mlbot evaluate` uses, so registered metrics compare.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config.schema import ModelConfig
from bot.errors import InputError, Refused
from bot.ml import artifacts, lineage
from bot.ml.tabular import read_table
from bot.registry import yamlio

Step = Callable[[str], None]
LOG_TAIL = 15


def command_for(mc: ModelConfig) -> tuple[list[str], str]:
    """The argv to run and a description of it, from `.github/mlbot.yml`."""
    if mc.dvc_stage:
        return [sys.executable, "-m", "dvc", "repro", mc.dvc_stage], f"dvc repro {mc.dvc_stage}"
    if mc.train:
        # Read from the default branch's config, never from comment text; no shell.
        return shlex.split(mc.train), mc.train
    raise InputError("the model declares neither `train:` nor `dvc_stage:` in .github/mlbot.yml.")


def _run_command(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env}
    # `python` in a training command means this interpreter, as in a venv's activate.
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + full_env.get("PATH", "")
    with log.open("w") as out:
        try:
            proc = subprocess.run(
                argv, cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT, check=False
            )
        except FileNotFoundError:
            raise InputError(f"training command not found: {argv[0]}.") from None
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-LOG_TAIL:]
        raise Refused(
            f"training failed (exit {proc.returncode}); full log in {log}. Last lines:\n  "
            + "\n  ".join(tail)
        )


def _read_metrics(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"metrics file {path} is not valid JSON: {exc}.") from None
    return data if isinstance(data, dict) else {}


def _read_params(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        data = yamlio.load(path.read_bytes())
    except Exception as exc:
        raise InputError(f"params file {path} is not valid YAML: {exc}".splitlines()[0]) from None
    return data if isinstance(data, dict) else {}


def train(
    root: Path,
    model: str,
    mc: ModelConfig,
    *,
    holdout: Path | None = None,
    step: Step | None = None,
) -> dict[str, Any]:
    """Train `model`, log it to MLflow, and return the candidate.json document."""
    from bot.ml import scoring, tracking

    say = step or (lambda _msg: None)
    if not mc.artifact:
        raise InputError(f"model '{model}' declares no `artifact:` path in .github/mlbot.yml.")
    argv, described = command_for(mc)
    workdir = root if mc.dvc_stage else (root / mc.path)
    say(f"tracking in MLflow ({tracking.tracking_uri(root)})")
    run = tracking.TrainingRun(root, experiment=model)
    ok = False
    try:
        say(f"running {described}")
        _run_command(argv, workdir, run.env(), root / ".mlbot" / "logs" / f"train-{model}.log")
        artifact = root / mc.artifact
        if not artifact.is_file():
            raise InputError(f"training finished but wrote no artifact at {mc.artifact}.")
        sha256, size = artifacts.file_digest(artifact)
        metrics = _read_metrics(root / mc.metrics if mc.metrics else None)
        params = _read_params(root / mc.params if mc.params else None)
        slices: dict[str, Any] = {}
        holdout_path = holdout or (root / mc.data["holdout"] if "holdout" in mc.data else None)
        if holdout_path is not None and mc.target:
            say(f"scoring on the holdout set {holdout_path}")
            fitted = artifacts.load_model(artifact, "trained")
            scores = scoring.score(
                fitted,
                read_table(holdout_path, "holdout"),
                target=mc.target,
                task=mc.task,
                group_columns=mc.group_columns,
            )
            metrics = {**metrics, **scores.metrics}
            slices = scores.slices
        data = lineage.dvc_data_digests(root)
        commit = lineage.git_commit(root)
        tags = {"mlbot.model": model, "mlbot.artifact.sha256": sha256}
        if commit:
            tags["mlbot.commit"] = commit
        tags.update({f"mlbot.data.{p}": d for p, d in data.items()})
        say("logging params, metrics and the model to MLflow")
        uri = run.log(params=params, metrics=metrics, tags=tags, artifact=artifact)
        ok = True
    finally:
        run.finish(ok)
    return {
        "model": model,
        "artifact": {
            "path": Path(mc.artifact).as_posix(),
            "sha256": sha256,
            "size": size,
            "uri": uri,
        },
        "metrics": metrics,
        "params": params,
        "slices": slices,
        "lineage": {
            "commit": commit,
            "data": data,
            "mlflow_run_id": run.run.run_id,
            "ci_run_url": lineage.ci_run_url(),
        },
    }
