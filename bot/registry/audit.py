"""Commit messages that make `git log` the audit log.

Subject: `registry: <action> <model> <version> [to <stage>]`; then a body, then
git trailers (`Requested-by:`, one `Approved-by:` per approver, `Evidence:`,
`Refs:`) that `git interpret-trailers --parse` and the GitHub UI understand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# An approval someone said happened (the CLI's --approved-by), which nothing checked.
CLAIMED_APPROVAL = "Claimed-approval-by"


def _one_line(value: str) -> str:
    # A newline in a trailer value would forge another trailer.
    return " ".join(value.split())


@dataclass(frozen=True)
class Audit:
    requested_by: str
    approved_by: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    reason: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def message(subject: str, audit: Audit, body: Iterable[str] = ()) -> str:
    lines = [_one_line(subject)]
    paragraph = [line for line in body if line]
    if audit.reason:
        paragraph.append(f"Reason: {_one_line(audit.reason)}")
    if paragraph:
        lines += ["", *paragraph]
    trailers = [f"Requested-by: {_one_line(audit.requested_by)}"]
    trailers += [f"Approved-by: {_one_line(a)}" for a in audit.approved_by]
    trailers += [f"Evidence: {_one_line(e)}" for e in audit.evidence]
    trailers += [f"Refs: {_one_line(r)}" for r in audit.refs]
    trailers += [f"{k}: {_one_line(v)}" for k, v in audit.extra.items()]
    lines += ["", *trailers]
    return "\n".join(lines) + "\n"


def parse_trailers(text: str) -> dict[str, list[str]]:
    """Trailers of a commit message: the last paragraph's `Key: value` lines."""
    paragraphs = text.strip().split("\n\n")
    if len(paragraphs) < 2:
        return {}
    found: dict[str, list[str]] = {}
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if not sep or " " in key:
            return {}
        found.setdefault(key, []).append(value.strip())
    return found
