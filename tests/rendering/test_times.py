"""Relative times with the exact one on hover."""

from __future__ import annotations

import datetime as dt

from bot.rendering.times import ago, relative

NOW = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.timezone.utc)


def test_relative_times_read_as_people_say_them() -> None:
    assert relative(NOW - dt.timedelta(hours=3), NOW) == "3 hours ago"
    assert relative(NOW - dt.timedelta(days=335), NOW) == "11 months ago"
    assert relative(NOW + dt.timedelta(seconds=1), NOW) == "just now"  # a clock a bit ahead


def test_the_exact_time_is_the_tooltip() -> None:
    assert ago(NOW - dt.timedelta(minutes=5), NOW) == (
        '<span title="2026-12-02 02:55 UTC">5 minutes ago</span>'
    )
    assert ago(None, NOW) == "—"
