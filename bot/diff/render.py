"""The PR comment body: verdict first, metric table, collapsible details (Jinja2).

Input is an `evaluation.json` document (written by `mlbot evaluate`, or built
by `mlbot diff`) and, when known, the policy that judged it. The first line
is `bot.diff.headline.verdict_line`; every metric is written with the same
decimals in each column (`report.decimals` of the policy), deltas at that
precision with a real minus sign (percentage points for rates), a threshold
column in words, and colour only where a gate looks or the change is past
the noise floor. The text never exceeds GitHub's 65,536-character comment
limit: details go first, then table rows, each cut with a visible note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot import rendering
from bot.diff.headline import NextStep, Promoted, gate_label, gates, verdict_line
from bot.diff.metrics import diff as metric_diff
from bot.diff.metrics import flatten
from bot.rendering import fmt, md
from bot.rendering.numbers import MetricFormat, plural

if TYPE_CHECKING:
    from bot.policy.schema import MetricGate, Policy

GITHUB_COMMENT_LIMIT = 65_536
# Metric names that are better when lower, when the policy does not say.
_LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "mape", "latency", "log_loss")
_HIGHER_IS_BETTER = ("accuracy", "f1", "auc", "precision", "recall", "r2", "score")
# Metric names that are rates (shares in [0, 1]) when the policy does not list them.
_RATES = ("accuracy", "precision", "recall", "f1", "auc", "rate")
_DEFAULT_NOISE_FLOOR = 0.001


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


def metric_format(name: str, policy: Policy | None, values: Sequence[object] = ()) -> MetricFormat:
    """Decimals and unit of one metric, from the policy's `report` or the defaults."""
    report = policy.report if policy is not None else None
    decimals = report.metric_decimals.get(name, report.decimals) if report else 4
    if report is not None and report.rates is not None:
        rate = name in report.rates
    else:
        lowered = name.lower()
        rate = any(token in lowered for token in _RATES) and all(
            isinstance(v, int | float) and 0 <= v <= 1 for v in values if v is not None
        )
    return MetricFormat(decimals, rate)


def threshold_words(gate: MetricGate | None, form: MetricFormat) -> str:
    """The gate in the words of a model card: `≥ 0.9000, at most 2.00 pp worse`."""
    if gate is None:
        return "not gated"
    parts = []
    if gate.min is not None:
        parts.append(f"≥ {form.value(gate.min)}")
    if gate.max is not None:
        parts.append(f"≤ {form.value(gate.max)}")
    if gate.max_regression is not None:
        parts.append(f"at most {form.amount(gate.max_regression)} worse")
    return ", ".join(parts) or "reported"


def _rows(
    evaluation: Mapping[str, Any], directions: Mapping[str, str], policy: Policy | None
) -> list[dict[str, str]]:
    candidate = evaluation.get("candidate", {}).get("metrics", {})
    production = (evaluation.get("production") or {}).get("metrics")
    gate_of = {
        c["name"].removeprefix("metric:"): c["status"]
        for c in evaluation.get("verdict", {}).get("checks", [])
        if c["name"].startswith("metric:")
    }
    noise = policy.report.noise_floor if policy is not None else _DEFAULT_NOISE_FLOOR
    entries = metric_diff(production, candidate, all=True)
    rows = []
    for name, entry in entries.items():
        form = metric_format(name, policy, [entry["old"], entry["new"]])
        gate = policy.metrics.get(name) if policy is not None else None
        gated = gate is not None or name in gate_of
        delta, mark = "—", ""
        if "diff" in entry and not isinstance(entry["new"], bool):
            change = entry["diff"]
            delta = form.delta(change)
            way = gate.direction if gate is not None else direction(name, directions)
            visible = not delta.startswith("±0")
            if way and visible and (gated or abs(change) >= noise):
                better = (change > 0) == (way == "higher")
                mark = " 🟢" if better else " 🔴"
        status = gate_of.get(name)
        rows.append(
            {
                "metric": md(name),
                "production": md(form.value(entry["old"])),
                "candidate": md(form.value(entry["new"])),
                "delta": delta + mark,
                "threshold": threshold_words(gate, form) if policy is not None else "",
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
    policy: Policy | None = None,
    baseline_label: str | None = None,
    next_step: NextStep | None = None,
    promoted: Promoted | None = None,
    alerts: Sequence[tuple[str, str]] = (),
    footer: str | None = None,
) -> str:
    """Render the comment; `sections` are extra Markdown blocks (scan, signature, chart).

    `alerts` are (NOTE or WARNING, text) shown right under the first line;
    `footer` is Markdown for the very end. `baseline_label` names what the
    candidate is compared with ("production", "staging", a file...): taken
    from the document's `baseline.label` when the caller does not say, else
    the policy's baseline stage.
    """
    directions = dict(evaluation.get("directions") or {}) | dict(directions or {})
    production = evaluation.get("production") or None
    candidate = evaluation.get("candidate", {})
    label = baseline_label or baseline_label_of(evaluation, policy)
    counted = gates(evaluation)
    prod_params = (production or {}).get("params")
    context = {
        "headline": verdict_line(
            model,
            evaluation,
            baseline_label=label,
            next_step=next_step,
            promoted=promoted,
        ),
        "baseline": md(label),
        "baseline_title": md(label[:1].upper() + label[1:]),
        "promoted": promoted,
        "failed": [c for c in counted if c["status"] == "fail"],
        "gates": [{**c, "label": gate_label(c["name"])} for c in counted],
        "gate_count": plural(len(counted), "gate"),
        "production_version": md(production["version"]) if production else None,
        "candidate_version": md(candidate.get("version") or "candidate"),
        "rows": _rows(evaluation, directions, policy),
        "show_threshold": policy is not None,
        "slices": _slices(
            candidate.get("slices") or {}, (production or {}).get("slices") or {}, policy
        ),
        "params": _dict_diff(prod_params, candidate.get("params")),
        "params_missing": production is not None and not prod_params,
        "lineage": _dict_diff((production or {}).get("lineage"), candidate.get("lineage")),
        "sections": list(sections),
        "run_url": run_url,
        "policy": md(evaluation.get("policy") or "default"),
        "md": md,
        "fmt": fmt,
        "plural": plural,
        "note": None,
        "alerts": [(kind, md(text)) for kind, text in alerts],
        "footer": footer,
    }
    template = _env().get_template("comment.md.j2")
    text = template.render(**context)
    if len(text) <= limit:
        return text
    # Too long: drop the collapsible details first, then table rows.
    dropped = len(context["params"]) + len(context["lineage"]) + len(context["sections"])
    no_slices = {"title": "", "metrics": []}
    context.update(params=[], lineage=[], sections=[], slices=no_slices, params_missing=False)
    context["note"] = (
        f"Details ({plural(dropped, 'entry', 'entries')}) were left out to fit GitHub's "
        "comment limit."
    )
    text = template.render(**context)
    rows = context["rows"]
    while len(text) > limit and rows:
        keep = max(0, len(rows) - max(1, len(rows) // 4))
        cut = len(context["rows"]) - keep
        rows = rows[:keep]
        context["rows"] = rows
        context["note"] = (
            f"{plural(cut, 'more metric row')} and the details were left out to fit "
            "GitHub's comment limit; see evaluation.json in the run's artifacts."
        )
        text = template.render(**context)
    return text[:limit]


def baseline_label_of(evaluation: Mapping[str, Any], policy: Policy | None) -> str:
    """What the candidate is compared with: the document's `baseline.label`, else the stage."""
    baseline = evaluation.get("baseline")
    if isinstance(baseline, Mapping) and baseline.get("label"):
        return str(baseline["label"])
    return policy.baseline_stage if policy is not None else "production"


def _slices(
    candidate: Mapping[str, Any], production: Mapping[str, Any], policy: Policy | None
) -> dict[str, Any]:
    """Per sliced metric its groups; and the worst group change, for the block's title."""
    out = []
    worst: tuple[float, str] | None = None
    for metric, data in candidate.items():
        prod = production.get(metric) or {}
        groups_before = prod.get("groups") or {}
        form = metric_format(metric, policy, list((data.get("groups") or {}).values()))
        way = direction(metric, {}) or "higher"
        groups = []
        for g, v in (data.get("groups") or {}).items():
            old = groups_before.get(g)
            numbers = isinstance(v, int | float) and isinstance(old, int | float)
            change = v - old if numbers else None
            groups.append(
                {
                    "group": md(g),
                    "candidate": md(form.value(v)),
                    "production": md(form.value(old)),
                    "delta": form.delta(change),
                }
            )
            if change is not None:
                worse = -change if way == "higher" else change
                said = f"{md(metric)} of {md(g)} {form.value(old)} → {form.value(v)}"
                if worst is None or worse > worst[0]:
                    worst = (worse, said)
        out.append(
            {
                "metric": md(metric),
                "gap": md(form.value(data.get("gap"))),
                "production_gap": md(form.value(prod.get("gap"))),
                "groups": groups,
            }
        )
    title = "Slices"
    if worst is not None and worst[0] > 0:
        title += f": worst change {worst[1]}"
    elif worst is not None:
        title += ": no group got worse"
    return {"title": title, "metrics": out}
