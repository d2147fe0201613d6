"""`mlbot evaluate`: champion/challenger on one holdout set, judged by the policy's gates.

The candidate comes from candidate.json; the champion is the version live in
the policy's baseline stage (production by default), fetched by the URI in
its version record and checked against the recorded sha256. Both are scored
by the same code on the same rows; the metric and slice gates are the
policy's own (`evaluate_candidate`), never re-implemented here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config.schema import ModelConfig
from bot.errors import InputError
from bot.ml import artifacts, scoring
from bot.ml.tabular import read_table
from bot.policy.schema import Policy
from bot.registry.store import RegistryStore

Step = Callable[[str], None]


def candidate_artifact(root: Path, candidate: dict[str, Any], workdir: Path) -> Path:
    """The candidate's model file: the working copy if it still matches, else its URI."""
    art = candidate.get("artifact")
    if not isinstance(art, dict) or not art.get("sha256"):
        raise InputError("candidate.json has no artifact with a sha256: run `mlbot train` again.")
    sha = str(art["sha256"])
    local = root / str(art.get("path", "")) if art.get("path") else None
    if local is not None and local.is_file() and artifacts.file_digest(local)[0] == sha:
        return local
    if art.get("uri"):
        return artifacts.fetch_verified(str(art["uri"]), sha, root, "candidate", workdir)
    if local is None or not local.is_file():
        raise InputError(f"candidate artifact {art.get('path')} is missing.")
    raise InputError(
        f"candidate artifact {art.get('path')} does not match the sha256 in candidate.json: "
        "it changed after training; run `mlbot train` again."
    )


def _slices(raw: dict[str, Any]):
    from bot.registry.schema import SliceMetric

    try:
        return {k: SliceMetric.model_validate(v) for k, v in (raw or {}).items()}
    except Exception as exc:
        raise InputError(f"candidate slices are malformed: {exc}".splitlines()[0]) from None


def evaluate(
    root: Path,
    store: RegistryStore,
    model: str,
    mc: ModelConfig,
    policy: Policy,
    candidate: dict[str, Any],
    holdout: Path,
    *,
    workdir: Path,
    step: Step | None = None,
) -> dict[str, Any]:
    """The evaluation.json document for `candidate` against the live baseline version."""
    from bot.diff.metrics import diff
    from bot.policy.evidence import GateEvidence
    from bot.policy.gates import evaluate_candidate

    say = step or (lambda _msg: None)
    if candidate.get("model") not in (None, model):
        raise InputError(f"candidate.json is for model '{candidate.get('model')}', not '{model}'.")
    if not mc.target:
        raise InputError(
            f"model '{model}' declares no `target:` label column in .github/mlbot.yml."
        )
    say(f"reading the holdout set {holdout}")
    frame = read_table(holdout, "holdout")
    holdout_sha, _ = artifacts.file_digest(holdout)

    def scored(model_obj: object, who: str) -> scoring.Scores:
        return scoring.score(
            model_obj,
            frame,
            target=mc.target or "",
            task=mc.task,
            group_columns=mc.group_columns,
            source=f"holdout {holdout.name}",
        )

    say("loading and scoring the candidate")
    cand_path = candidate_artifact(root, candidate, workdir)
    cand_sha = str(candidate["artifact"]["sha256"])
    cand_scores = scored(artifacts.load_model(cand_path, "candidate"), "candidate")

    state = store.read_model(model, store.head())
    live = state.live.get(policy.baseline_stage)
    cand_version = next(
        (v for v in reversed(state.versions) if state.record(v).artifact.sha256 == cand_sha), None
    )
    production = None
    if live is not None:
        say(f"fetching {policy.baseline_stage} {live} and scoring it on the same rows")
        record = state.record(live)
        path = artifacts.fetch_verified(
            record.artifact.uri,
            record.artifact.sha256,
            root,
            f"{policy.baseline_stage} {model} {live}",
            workdir,
        )
        prod_scores = scored(artifacts.load_model(path, f"{policy.baseline_stage} {live}"), live)
        production = {
            "version": live,
            "metrics": prod_scores.metrics,
            "slices": prod_scores.slices,
        }
    say("judging the policy's metric and slice gates")
    # Only what was measured on these rows: training-side numbers (cv_accuracy...) stay in
    # candidate.json and MLflow, so every metric here compares like with like.
    cand_metrics = dict(cand_scores.metrics)
    evidence = GateEvidence(
        stage=policy.baseline_stage,
        version=cand_version or "the candidate",
        metrics=cand_metrics,
        baseline_version=live,
        baseline_metrics=production["metrics"] if production else None,
        slices=_slices(cand_scores.slices),
    )
    verdict = evaluate_candidate(policy, evidence)
    cand: dict[str, Any] = {
        "metrics": cand_metrics,
        "slices": cand_scores.slices,
        "artifact_sha256": cand_sha,
    }
    if cand_version:
        cand["version"] = cand_version
    return {
        "model": model,
        "candidate": cand,
        "production": production,
        "diff": diff(production["metrics"] if production else None, cand_metrics),
        "verdict": verdict.to_json(),
        "policy": policy.name,
        "holdout": {"path": _shown(holdout, root), "rows": len(frame), "digest": holdout_sha},
        "lineage": candidate.get("lineage", {}),
        "params": candidate.get("params", {}),
    }


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
