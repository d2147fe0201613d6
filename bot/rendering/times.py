"""Times as people read them: `3 hours ago`, with the exact time on hover."""

from __future__ import annotations

import datetime as dt


def exact(when: dt.datetime) -> str:
    """`2026-01-01 07:00 UTC`: the absolute time, to the minute, in UTC."""
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def relative(when: dt.datetime, now: dt.datetime) -> str:
    """`3 hours ago` (Babel's CLDR wording); `just now` within a minute either way."""
    from babel.dates import format_timedelta

    if abs((when - now).total_seconds()) < 60:
        return "just now"
    return format_timedelta(when - now, add_direction=True, locale="en", threshold=1.0)


def ago(when: dt.datetime | None, now: dt.datetime) -> str:
    """Relative time with the absolute one as its tooltip (GitHub keeps `title` on a span)."""
    if when is None:
        return "—"
    return f'<span title="{exact(when)}">{relative(when, now)}</span>'
