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

_LABEL_RE = re.compile(r"[^A-Za-z0-9._+ -]")


def _label(text: str) -> str:
    """Chart text from data a PR controls: only characters Mermaid cannot misread."""
    return _LABEL_RE.sub("_", str(text))[:40] or "_"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def chart_data(
    metric: str,
    history: Sequence[tuple[str, object]],
    candidate: object,
    *,
    candidate_version: str | None = None,
    shown: Mapping[str, object] | None = None,
    decimals: int = 4,
) -> dict[str, Any] | None:
    """Labels, values and y range of the chart; None when there is nothing to draw.

    `shown` maps a version to the value the comment's table shows for it (the
    baseline as this run measured it): the chart plots that, not the value
    recorded at registration, so chart and table never disagree. A version
    appears once: the candidate's own version in the history (already
    promoted) is the candidate's bar. The axis starts at zero (or below the
    lowest negative value), so a small change looks small.
    """
    shown = dict(shown or {})
    cand = _number(candidate)
    points: list[tuple[str, float]] = []
    for version, value in history:
        if cand is not None and version == candidate_version:
            continue
        n = _number(shown.get(version, value))
        if n is not None:
            points.append((_label(version), round(n, decimals)))
    if cand is not None:
        label = f"{candidate_version} candidate" if candidate_version else "candidate"
        points.append((_label(label), round(cand, decimals)))
    if not points:
        return None
    values = [v for _, v in points]
    low, high = min(0.0, min(values)), max(values)
    # Rates end at 1; anything else gets a little headroom above its highest bar.
    top = 1.0 if low >= 0 and high <= 1 else high + (high - low) * 0.1
    return {
        "metric": _label(metric),
        "labels": [label for label, _ in points],
        "points": values,
        "y_min": round(low, 6),
        "y_max": round(top, 6),
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
