"""Jinja2 templates of the ML steps (bot/ml/templates), and the PR report."""

from __future__ import annotations

import functools
import re
from typing import Any


@functools.cache
def _env():
    from bot import rendering

    env = rendering.environment("bot.ml")
    env.filters["num"] = _num
    env.filters["signed"] = _signed
    env.filters["pct"] = lambda v: f"{v:.1%}"
    env.filters["cell"] = _cell
    return env


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
