"""Markdown from Jinja2 templates kept beside the code that fills them.

Every comment, issue body, reply and summary comes from a package's
`templates/` folder through one environment per package. Autoescape is off
because the output is Markdown, not HTML: every value that comes from
outside (comments, PR data, scan reports) passes through `md`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from bot.rendering.numbers import plural
from bot.rendering.times import ago


def md(value: object) -> str:
    """Text safe inside a Markdown table cell (no pipes, no HTML, no line breaks)."""
    text = str(value)
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(char, escaped)
    return " ".join(text.split())


def code(value: object) -> str:
    """Inline code that no backtick in the value can close (CommonMark: a longer fence).

    The way to echo words a person wrote: inside a code span GitHub neither
    mentions `@someone` nor links `#12`.
    """
    text = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    if not longest:
        return f"`{text}`"
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}"


def fmt(value: object) -> str:
    """A metric value for a table: 4 significant digits, a dash for nothing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return md(value)


@cache
def environment(package: str) -> Any:
    """The Jinja2 environment of `<package>/templates`, with the `md` and `fmt` filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=False,  # noqa: S701 - Markdown, not HTML; outside values go through md()
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = md
    env.filters["fmt"] = fmt
    env.globals["plural"] = plural
    env.filters["ago"] = ago
    env.filters["code"] = code
    return env


def render(package: str, template: str, **context: Any) -> str:
    return environment(package).get_template(template).render(**context)
