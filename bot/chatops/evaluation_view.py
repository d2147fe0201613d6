"""A run's evaluation as the registry and the default branch's policy judge it.

Both the sticky metric comment and the check run `mlbot / <model>` show a
candidate through this one comparison, so the two never disagree: production
is what the registry says is live in the baseline stage (not what the run
claims), and the verdict is judged again under the policy, whatever verdict
the run uploaded. No GitHub I/O here: plain JSON and a `ModelState` in (whose
records it reads as the state's backend loads them), plain JSON out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.policy.evidence import GateEvidence
from bot.policy.gates import evaluate_candidate
from bot.registry.schema import SliceMetric

if TYPE_CHECKING:
    from bot.policy.schema import Policy
    from bot.registry.state import ModelState


def compare_with_registry(
    evaluation: Mapping[str, Any],
    state: ModelState | None,
    policy: Policy | None,
) -> tuple[dict[str, Any], list[str]]:
    """The evaluation as the comment shows it, and notes on what was changed and why.

    Production comes from the registry: the run's own measurement is kept
    when it measured the version live now (same rows, like with like);
    otherwise the live version's recorded metrics replace it. The verdict
    is judged again under the default branch's policy.
    """
    out = json.loads(json.dumps(evaluation))  # a deep copy of plain JSON
    notes: list[str] = []
    candidate = out.setdefault("candidate", {})
    if not isinstance(candidate, dict):
        candidate = out["candidate"] = {}
    for key in ("params", "lineage"):
        if key not in candidate and isinstance(out.get(key), dict):
            candidate[key] = out[key]
    measured = out.get("production") if isinstance(out.get("production"), dict) else None
    stage = policy.baseline_stage if policy is not None else "production"
    live = state.live.get(stage) if state is not None else None
    version = candidate.get("version")
    if live is not None and live == version and state is not None and state.stages is not None:
        # Already promoted: compare with the version it replaced, never with itself.
        out["promoted"] = {"stage": stage}
        before = state.stages.stages[stage].previous
        live = before[0].version if before else None
    record = None
    if live is not None and state is not None:
        try:
            record = state.record(live)
        except Exception as exc:  # a broken record must not hide the comment
            notes.append(f"The record of {stage} {live} could not be read: {exc}")
    production: dict[str, Any] | None
    if live is None:
        production = None
        if measured:
            notes.append(
                f"The run compared with {measured.get('version')}, but nothing is live in "
                f"{stage} now: only the thresholds apply."
            )
    elif measured and measured.get("version") == live:
        production = dict(measured)
    else:
        production = {
            "version": live,
            "metrics": dict(record.metrics) if record else {},
            "slices": {k: v.model_dump() for k, v in record.slices.items()} if record else {},
        }
        ran = measured.get("version") if measured else None
        what = f"{stage.capitalize()} is {live} in the registry"
        if out.get("promoted"):
            what = f"{version} replaced {live} in {stage}"
        notes.append(
            what
            + (f", but the run compared with {ran}" if ran else ", which the run did not measure")
            + f": its column shows {live}'s metrics as recorded at registration."
        )
    if production is not None and record is not None:
        production.setdefault("params", dict(record.params))
        production.setdefault("lineage", record.lineage.model_dump(exclude_none=True))
    out["production"] = production
    if policy is not None:
        try:
            slices = {
                k: SliceMetric.model_validate(v) for k, v in (candidate.get("slices") or {}).items()
            }
        except Exception:
            slices = None
            notes.append("The run's slice metrics are malformed; slice gates cannot pass.")
        metrics = candidate.get("metrics") if isinstance(candidate.get("metrics"), dict) else {}
        verdict = evaluate_candidate(
            policy,
            GateEvidence(
                stage=stage,
                version=str(candidate.get("version") or "the candidate"),
                metrics=metrics,
                baseline_version=live if production else None,
                baseline_metrics=(production or {}).get("metrics") if production else None,
                slices=slices,
            ),
        )
        out["verdict"] = verdict.to_json()
        out["policy"] = policy.name
    return out, notes
