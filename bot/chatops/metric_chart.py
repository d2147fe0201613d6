"""The metric comment's chart: one metric over the stage's recent versions and the candidate.

Pure: plain values in, the data a Mermaid template draws out. Every label
comes from data a PR controls, so only characters Mermaid cannot misread
are kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.chatops.run_evidence import one_line

if TYPE_CHECKING:
    from bot.policy.schema import Policy
    from bot.registry.state import ModelState

log = logging.getLogger(__name__)

# Versions of the stage shown in the chart before the candidate.
CHART_VERSIONS = 8

_LABEL_RE = re.compile(r"[^A-Za-z0-9._+-]")


def _label(text: str) -> str:
    """Chart text from data a PR controls: only characters Mermaid cannot misread."""
    return _LABEL_RE.sub("_", str(text))[:40] or "_"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def chart_data(
    metric: str, history: Sequence[tuple[str, object]], candidate: object
) -> dict[str, Any] | None:
    """Labels, values and y range of the chart; None when there is nothing to draw."""
    points = [(_label(v), n) for v, value in history if (n := _number(value)) is not None]
    cand = _number(candidate)
    if cand is not None:
        points.append(("candidate", cand))
    if not points:
        return None
    values = [v for _, v in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or max(abs(high) * 0.05, 0.01)
    return {
        "metric": _label(metric),
        "labels": [label for label, _ in points],
        "points": [round(v, 6) for v in values],
        "y_min": round(low - pad, 6),
        "y_max": round(high + pad, 6),
        "versions": len(points) - (1 if cand is not None else 0),
        "has_candidate": cand is not None,
    }


def chart_metric(policy: Policy | None, candidate_metrics: Mapping[str, object]) -> str | None:
    """The metric to chart: the policy's first gated metric the candidate has, else its first."""
    numeric = [k for k, v in candidate_metrics.items() if _number(v) is not None]
    for name in policy.metrics if policy is not None else ():
        if name in numeric:
            return name
    return numeric[0] if numeric else None


def production_history(
    state: ModelState | None, stage: str, metric: str
) -> list[tuple[str, object]]:
    """(version, recorded metric) of the stage's recent versions, oldest first."""
    if state is None or state.stages is None or stage not in state.stages.stages:
        return []
    entry = state.stages.stages[stage]
    versions: list[str] = []
    for v in [p.version for p in reversed(entry.previous)] + [entry.version]:
        if v in versions:
            versions.remove(v)
        versions.append(v)
    out = []
    for v in versions[-CHART_VERSIONS:]:
        try:
            out.append((v, state.record(v).metrics.get(metric)))
        except Exception as exc:  # a missing record leaves a gap, not a broken comment
            log.warning("no record of %s for the chart: %s", v, one_line(exc))
    return out
