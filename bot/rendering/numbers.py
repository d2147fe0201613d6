"""Numbers a person can compare: fixed decimals, a real minus sign, percentage points.

A metric is shown with the same number of decimals in every row and column
(the policy's `report.decimals`, per metric or overall), so `0.9640` sits
above `0.9554` and not `0.964`. A delta has the precision of its values and
a real minus sign (U+2212); for a rate (a share between 0 and 1: accuracy,
recall...) it is in percentage points, which is how people say it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MINUS = "\u2212"
DASH = "—"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 gate`, `3 gates`; `many` for irregular plurals (`1 entry`, `2 entries`)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def signed(text: str) -> str:
    """A formatted number with a real minus sign instead of a hyphen."""
    return MINUS + text[1:] if text.startswith("-") else text


@dataclass(frozen=True)
class MetricFormat:
    """How one metric's values and changes are written."""

    decimals: int = 4
    rate: bool = False

    def value(self, value: object) -> str:
        number = _number(value)
        if number is None:
            return DASH if value is None else str(value)
        if math.isinf(number) or math.isnan(number):
            return str(number)
        return signed(f"{number:.{self.decimals}f}")

    def delta(self, change: float | None) -> str:
        """`+0.58 pp` for a rate, `+0.0058` otherwise; `±0` when nothing changed."""
        if change is None:
            return DASH
        if self.rate:
            places = max(0, self.decimals - 2)
            text, unit = f"{change * 100:+.{places}f}", " pp"
        else:
            text, unit = f"{change:+.{self.decimals}f}", ""
        if float(text) == 0:
            return "±0" + unit
        return signed(text) + unit

    def amount(self, value: float) -> str:
        """A threshold or an allowed change, in the units the deltas use."""
        if self.rate:
            return f"{value * 100:.{max(0, self.decimals - 2)}f} pp"
        return signed(f"{value:.{self.decimals}f}")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
