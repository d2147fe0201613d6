"""The PR comment body: metric table, verdict, collapsible details (Jinja2).

Input is an `evaluation.json` document (written by `mlbot evaluate`, or built
by `mlbot diff`). The text never exceeds GitHub's 65,536-character comment
limit: details go first, then table rows, each cut with a visible note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot import rendering
from bot.diff.metrics import diff as metric_diff
from bot.diff.metrics import flatten
from bot.rendering import fmt, md

GITHUB_COMMENT_LIMIT = 65_536
# Metric names that are better when lower, when the policy does not say.
_LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "mape", "latency", "log_loss")
_HIGHER_IS_BETTER = ("accuracy", "f1", "auc", "precision", "recall", "r2", "score")


def _env():
    return rendering.environment("bot.diff")


def direction(name: str, directions: Mapping[str, str]) -> str | None:
    if name in directions:
        return directions[name]
    lowered = name.lower()
    if any(token in lowered for token in _LOWER_IS_BETTER):
        return "lower"
    if any(token in lowered for token in _HIGHER_IS_BETTER):
        return "higher"
    return None


def _rows(evaluation: Mapping[str, Any], directions: Mapping[str, str]) -> list[dict[str, str]]:
    candidate = evaluation.get("candidate", {}).get("metrics", {})
    production = (evaluation.get("production") or {}).get("metrics")
    gate_of = {
        c["name"].removeprefix("metric:"): c["status"]
        for c in evaluation.get("verdict", {}).get("checks", [])
        if c["name"].startswith("metric:")
    }
    entries = metric_diff(production, candidate, all=True)
    rows = []
    for name, entry in entries.items():
        delta, mark = "—", ""
        if "diff" in entry and not isinstance(entry["new"], bool):
            change = entry["diff"]
            delta = f"{change:+.4g}"
            way = direction(name, directions)
            if change and way:
                better = (change > 0) == (way == "higher")
                mark = " 🟢" if better else " 🔴"
        status = gate_of.get(name)
        rows.append(
            {
                "metric": md(name),
                "production": fmt(entry["old"]),
                "candidate": fmt(entry["new"]),
                "delta": delta + mark,
                "gate": {"pass": "✅", "fail": "❌", "skip": "➖"}.get(status or "", ""),
            }
        )
    rows.sort(key=lambda r: (r["gate"] == "", r["metric"]))
    return rows


def _dict_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[dict]:
    before, after = flatten(old), flatten(new)
    keys = sorted(set(before) | set(after))
    return [
        {"key": md(k), "old": fmt(before.get(k)), "new": fmt(after.get(k))}
        for k in keys
        if before.get(k) != after.get(k)
    ]


def comment_markdown(
    model: str,
    evaluation: Mapping[str, Any],
    *,
    run_url: str | None = None,
    directions: Mapping[str, str] | None = None,
    sections: Sequence[str] = (),
    limit: int = GITHUB_COMMENT_LIMIT,
) -> str:
    """Render the comment; `sections` are extra Markdown blocks (scan, signature, chart)."""
    directions = dict(evaluation.get("directions") or {}) | dict(directions or {})
    verdict = evaluation.get("verdict") or {"passed": True, "checks": []}
    production = evaluation.get("production") or None
    candidate = evaluation.get("candidate", {})
    context = {
        "model": md(model),
        "passed": verdict.get("passed", False),
        "failed": [c for c in verdict.get("checks", []) if c["status"] == "fail"],
        "checks": verdict.get("checks", []),
        "production_version": md(production["version"]) if production else None,
        "candidate_version": md(candidate.get("version") or "candidate"),
        "rows": _rows(evaluation, directions),
        "slices": _slices(candidate.get("slices") or {}, (production or {}).get("slices") or {}),
        "params": _dict_diff((production or {}).get("params"), candidate.get("params")),
        "lineage": _dict_diff((production or {}).get("lineage"), candidate.get("lineage")),
        "sections": list(sections),
        "run_url": run_url,
        "policy": md(evaluation.get("policy") or "default"),
        "md": md,
        "fmt": fmt,
        "note": None,
    }
    template = _env().get_template("comment.md.j2")
    text = template.render(**context)
    if len(text) <= limit:
        return text
    # Too long: drop the collapsible details first, then table rows.
    dropped = len(context["params"]) + len(context["lineage"]) + len(context["sections"])
    context.update(params=[], lineage=[], sections=[], slices=[])
    context["note"] = f"Details ({dropped} entries) were left out to fit GitHub's comment limit."
    text = template.render(**context)
    rows = context["rows"]
    while len(text) > limit and rows:
        keep = max(0, len(rows) - max(1, len(rows) // 4))
        cut = len(context["rows"]) - keep
        rows = rows[:keep]
        context["rows"] = rows
        context["note"] = (
            f"{cut} more metric row(s) and the details were left out to fit "
            "GitHub's comment limit; see evaluation.json in the run's artifacts."
        )
        text = template.render(**context)
    return text[:limit]


def _slices(candidate: Mapping[str, Any], production: Mapping[str, Any]) -> list[dict]:
    out = []
    for metric, data in candidate.items():
        prod = production.get(metric) or {}
        groups = [
            {
                "group": md(g),
                "candidate": fmt(v),
                "production": fmt((prod.get("groups") or {}).get(g)),
            }
            for g, v in (data.get("groups") or {}).items()
        ]
        out.append(
            {
                "metric": md(metric),
                "gap": fmt(data.get("gap")),
                "production_gap": fmt(prod.get("gap")),
                "groups": groups,
            }
        )
    return out
