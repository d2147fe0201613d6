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

    return render(
        "model_card.md.j2",
        r=record,
        mc=mc,
        policy=policy,
        live=live,
        evaluation=evaluation,
        flat_metrics=flatten(record.metrics),
        flat_params={k: str(v) for k, v in flatten(record.params).items()},
        gates=_gate_text(policy),
        slice_gates={k: g.max_gap for k, g in policy.slices.items()},
        marks=MARK,
    )
