"""MODEL_CARD.md from a version record, the model's config, the policy and an evaluation."""

from __future__ import annotations

from typing import Any

from bot.config.schema import ModelConfig
from bot.diff.metrics import flatten
from bot.policy.schema import Policy
from bot.registry.schema import VersionRecord


def _gate_text(policy: Policy) -> dict[str, str]:
    out = {}
    for name, gate in policy.metrics.items():
        parts = []
        if gate.min is not None:
            parts.append(f"≥ {gate.min:g}")
        if gate.max is not None:
            parts.append(f"≤ {gate.max:g}")
        if gate.max_regression is not None:
            parts.append(f"at most {gate.max_regression:g} worse than {policy.baseline_stage}")
        out[name] = ", ".join(parts)
    return out


# Where a metric was measured, read from its name (the training script names its own metrics;
# mlbot's scores on the holdout set carry no prefix).
_DATA_SETS = (
    (("train_", "training_", "train.", "training."), "training data"),
    (("cv_", "cv.", "cross_val", "val_", "validation_", "val.", "validation."), "cross-validation"),
    (("test_", "test.", "holdout_", "holdout."), "test data"),
)


def data_set(metric: str) -> str:
    """The data set a metric was computed on, in words: training data, cross-validation..."""
    lowered = metric.lower()
    for prefixes, name in _DATA_SETS:
        if lowered.startswith(prefixes):
            return name
    return "holdout"


def model_card(
    record: VersionRecord,
    mc: ModelConfig,
    policy: Policy,
    *,
    live: list[str],
    evaluation: dict[str, Any] | None = None,
) -> str:
    from bot.ml.render import render
    from bot.policy.verdict import MARK

    candidate = (evaluation or {}).get("candidate") or {}
    evaluated = candidate.get("version")
    digest = candidate.get("artifact_sha256") or (candidate.get("artifact") or {}).get("sha256")
    # Another version's evaluation, by its version or (not yet registered) by its artifact.
    other = evaluation is not None and (
        evaluated not in (None, record.version)
        or (digest is not None and digest != record.artifact.sha256)
    )
    if other and evaluated is None:
        evaluated = f"another artifact (sha256 {str(digest)[:12]})"
    return render(
        "model_card.md.j2",
        r=record,
        mc=mc,
        policy=policy,
        live=live,
        # Only this version's evaluation: another version's numbers are not this card's.
        evaluation=None if other else evaluation,
        other_evaluation=evaluated if other else None,
        flat_metrics=flatten(record.metrics),
        data_set=data_set,
        flat_params={k: str(v) for k, v in flatten(record.params).items()},
        gates=_gate_text(policy),
        slice_gates={k: g.max_gap for k, g in policy.slices.items()},
        marks=MARK,
    )
