"""Jinja2 templates of the ML steps (bot/ml/templates), and the PR report."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from bot.rendering.numbers import signed


@functools.cache
def _env():
    from bot import rendering

    env = rendering.environment("bot.ml")
    env.filters["num"] = _num
    env.filters["signed"] = _signed
    env.filters["pct"] = lambda v: f"{v:.1%}"
    env.filters["cell"] = _cell
    env.filters["filename"] = filename
    env.filters["statistic"] = _statistic
    env.filters["threshold_words"] = _threshold
    env.filters["effect"] = effect_words
    return env


def filename(path: object) -> str:
    """A data file as the issue shows it: a path inside the repository, never a runner's path."""
    text = str(path)
    return PurePath(text).name if PurePath(text).is_absolute() else text


def _statistic(column: Mapping[str, Any]) -> str:
    score = column.get("score")
    if column.get("score_kind") == "p_value":
        return f"p = {_num(score)}"
    return f"{_num(score)}"


def _threshold(column: Mapping[str, Any]) -> str:
    threshold = column.get("threshold")
    if threshold is None:
        return "—"
    return (
        f"p < {_num(threshold)}"
        if column.get("score_kind") == "p_value"
        else f"> {_num(threshold)}"
    )


def effect_words(effect: Mapping[str, Any] | None) -> str:
    """How far a column moved, in words: `mean 0.012 → 1.52 (+1.5 standard deviations)`."""
    effect = effect or {}
    kind = effect.get("kind")
    if kind == "mean":
        out = f"mean {_num(effect.get('reference_mean'))} → {_num(effect.get('current_mean'))}"
        extra = []
        ref_mean, in_std = effect.get("reference_mean"), effect.get("mean_change_in_std")
        # A percentage of a mean near zero (standardised data) says nothing: left out.
        near_zero = (
            in_std
            and ref_mean is not None
            and abs(ref_mean) * abs(in_std)
            < 0.5 * abs((effect.get("current_mean") or 0) - ref_mean)
        )
        if effect.get("mean_change_pct") is not None and not near_zero:
            extra.append(signed(f"{effect['mean_change_pct']:+.0f}") + " %")
        if effect.get("mean_change_in_std") is not None:
            extra.append(signed(f"{effect['mean_change_in_std']:+.2f}") + " standard deviations")
        return out + (f" ({', '.join(extra)})" if extra else "")
    if kind == "share" and effect.get("category") is not None:
        ref = effect.get("reference_share") or 0.0
        cur = effect.get("current_share") or 0.0
        return (
            f"share of {_cell(effect['category'])}: {ref:.1%} → {cur:.1%} "
            f"({signed(f'{(cur - ref) * 100:+.1f}')} pp)"
        )
    return "—"


def drift_state(result: Mapping[str, Any]) -> dict[str, Any]:
    """What a re-detection compares with: per column, drifted or not, and its statistic."""
    return {
        str(c["column"]): {"drifted": bool(c.get("drifted")), "score": c.get("score")}
        for c in result.get("columns", [])
    }


def run_link(env: Mapping[str, str]) -> dict[str, str] | None:
    """The workflow run holding the report artifact, from a runner's environment."""
    server, repo, run = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if not (server and repo and run):
        return None
    return {"url": f"{server}/{repo}/actions/runs/{run}"}


def drift_markdown(
    result: Mapping[str, Any], evidently_version: str, env: Mapping[str, str] | None = None
) -> str:
    """The drift issue's body (also drift.md and the step summary)."""
    import json
    import os

    run = run_link(os.environ if env is None else env)
    if run is not None:
        run["artifact"] = f"mlbot-drift-{result.get('model') or 'report'}"
    return render(
        "drift_issue.md.j2",
        d=result,
        evidently_version=evidently_version,
        run=run,
        state=json.dumps(drift_state(result), sort_keys=True, separators=(",", ":")),
    )


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:.4g}"


def _signed(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:+.4g}"
    return str(value)


def _cell(value: Any) -> str:
    """Table-safe text from data: no pipe, line break or HTML breaks the Markdown table,
    and no @name or #123 in a data value mentions a person or links an issue."""
    from bot.rendering import md

    return re.sub(r"([@#])(?=[\w-])", "\\1\u200b", md(value).replace("`", "'"))


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def evaluation_markdown(evaluation: dict[str, Any], run_url: str | None = None) -> str:
    """The PR report: the foundation's comment template, fed our evaluation.json."""
    from bot.diff.render import comment_markdown

    return comment_markdown(evaluation["model"], evaluation, run_url=run_url)


# The step summaries share one heading scheme: `### <icon> mlbot <step>: <outcome>`.
SUMMARY_ICONS = {"✅": "✅", "❌": "❌", "➖": "⚠️"}


def evaluation_summary(markdown: str) -> str:
    """The evaluate step's summary: the PR report under the steps' heading scheme.

    The report opens with the verdict in bold (the comment's first line); the
    summary turns it into `### ✅ mlbot evaluate: cancer v1.2.0 passes 3/3 gates ...`.
    """
    first, _, rest = markdown.lstrip("\n").partition("\n")
    line = first.strip().removeprefix("**").removesuffix("**")
    icon, _, words = line.partition(" ")
    if icon not in SUMMARY_ICONS:  # not a verdict line: keep the report whole under a heading
        return f"### ⚠️ mlbot evaluate: see the report\n\n{markdown}"
    return f"### {SUMMARY_ICONS[icon]} mlbot evaluate: {words}\n{rest}"
