"""Named checks and the verdict they add up to.

Every gate reports by name, with a reason a person understands and, when it
fails, how to fix it; a verdict passes only when no check failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "fail", "skip"]
MARK = {"pass": "✅", "fail": "❌", "skip": "➖"}


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    reason: str
    fix: str | None = None

    @property
    def passed(self) -> bool:
        return self.status != "fail"


@dataclass(frozen=True)
class Verdict:
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "fail")

    def only_missing(self, name: str) -> bool:
        """True when the one failing check is `name` (e.g. a promotion awaiting approvals)."""
        return [c.name for c in self.failed] == [name]

    def summary(self) -> str:
        if self.passed:
            return f"all {len(self.checks)} checks passed"
        return "; ".join(f"{c.name}: {c.reason}" for c in self.failed)

    def to_json(self) -> dict:
        return {
            "passed": self.passed,
            "checks": [
                {"name": c.name, "status": c.status, "reason": c.reason, "fix": c.fix}
                for c in self.checks
            ],
        }
