"""The one line that says how a candidate stands and what to do next.

It opens the PR metric comment and titles the check run, so a reader who
sees nothing else knows the outcome:

    ✅ cancer v1.2.0 passes 3/3 gates vs production v1.1.0 — comment /promote; needs 1
    approval from @alice, @bob or @dave
    ❌ cancer v1.3.0 fails 2 of 3 gates vs production v1.1.0: accuracy, slice gap of accuracy
    ✅ cancer v1.2.0 was promoted to production in 1a2b3c4

Pure: an evaluation document (as `mlbot evaluate` writes it, judged again by
the bot) and a few facts in, one line of Markdown out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.rendering import md
from bot.rendering.numbers import plural

# A check run's title is at most this long on GitHub's side.
TITLE_LIMIT = 255


@dataclass(frozen=True)
class NextStep:
    """What the reader does once the gates pass: the command, and who must approve."""

    command: str = "/promote"
    stage: str | None = None
    approvals: int = 0
    approvers: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class Promoted:
    """The candidate is already live in `stage`, written by registry commit `commit`."""

    stage: str
    commit: str | None = None


def gate_label(name: str) -> str:
    """A check's name as words: `metric:accuracy` -> accuracy, `slice-gap:f1` -> slice gap of f1."""
    kind, _, subject = name.partition(":")
    if not subject:
        return name.replace("-", " ")
    if kind == "metric":
        return subject
    if kind == "slice-gap":
        return f"slice gap of {subject}"
    return f"{kind.replace('-', ' ')} of {subject}"


def gates(evaluation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The gates the comment counts: every check of the verdict that judged something."""
    checks = (evaluation.get("verdict") or {}).get("checks") or []
    return [c for c in checks if c.get("status") in ("pass", "fail")]


def _who(logins: Sequence[str]) -> str:
    names = [f"@{login}" for login in logins]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def verdict_line(
    model: str,
    evaluation: Mapping[str, Any],
    *,
    baseline_label: str = "production",
    next_step: NextStep | None = None,
    promoted: Promoted | None = None,
    markdown: bool = True,
) -> str:
    """The first line: outcome, candidate, baseline, then the next step.

    `markdown=False` gives plain text (a check run title): no escaping, and
    cut to GitHub's title limit.
    """
    esc = md if markdown else str
    candidate = evaluation.get("candidate") or {}
    version = esc(candidate.get("version") or "candidate")
    name = esc(model)
    if promoted is not None:
        where = f" in {promoted.commit[:7]}" if promoted.commit else ""
        line = f"✅ {name} {version} was promoted to {esc(promoted.stage)}{where}"
        return _fit(line, markdown)
    production = evaluation.get("production") or None
    versus = (
        f" vs {esc(baseline_label)} {esc(production.get('version'))}"
        if production and production.get("version")
        else f" (nothing in {esc(baseline_label)} yet: thresholds only)"
    )
    counted = gates(evaluation)
    failed = [c for c in counted if c.get("status") == "fail"]
    if failed:
        names = ", ".join(esc(gate_label(str(c.get("name")))) for c in failed)
        line = (
            f"❌ {name} {version} fails {len(failed)} of {plural(len(counted), 'gate')}"
            f"{versus}: {names}"
        )
        return _fit(line, markdown)
    if not counted:
        head = f"➖ {name} {version}: no gate applies{versus}"
    else:
        head = f"✅ {name} {version} passes {len(counted)}/{plural(len(counted), 'gate')}{versus}"
    return _fit(head + _next(next_step), markdown)


def _next(step: NextStep | None) -> str:
    if step is None:
        return ""
    out = f" — comment {step.command}"
    if step.approvals and step.approvers:
        out += f"; needs {plural(step.approvals, 'approval')} from {_who(step.approvers)}"
    elif step.approvals:
        out += f"; needs {plural(step.approvals, 'code-owner approval')}"
    return out


def _fit(line: str, markdown: bool) -> str:
    if markdown or len(line) <= TITLE_LIMIT:
        return line
    return line[: TITLE_LIMIT - 1] + "…"
