"""The check run `mlbot / <model>`: what it says, judged as the metric comment judges.

Pure: from the evaluation the comment shows (`compare_with_registry`'s
output, the same verdict) and the approvals that count, it decides the
conclusion, takes the title from the first line of the same rendered
metric table, points annotations at the lines that set a failed gate, and
offers the promotion button. GitHub's limits are enforced here, where they
can be tested: at most 50 annotations per request, 65,535 characters of
summary, 3 actions with labels of at most 20 characters, descriptions of at
most 40 and identifiers of at most 20.

Conclusions, failing closed:

- `success`: every configured gate passed, approvals included;
- `action_required`: the gates passed and only code-owner approvals are missing;
- `failure`: a gate failed, an owner requested changes, or there is no
  evaluation to judge;
- `neutral`: the evaluation is there and nothing is gated (no metric, slice
  or approval rule applies). Branch protection counts `neutral` as passing,
  so it is never the answer to missing or untrusted evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.diff.headline import verdict_line as headline
from bot.diff.render import baseline_label_of
from bot.policy.verdict import Check

Conclusion = Literal["success", "failure", "neutral", "action_required"]
PREFIX = "mlbot / "
SUMMARY_LIMIT = 65_535
TITLE_LIMIT = 255  # a longer title is refused by GitHub's UI, not the API; keep it a line
ANNOTATIONS_PER_REQUEST = 50
MAX_ACTIONS = 3
LABEL_LIMIT = 20
DESCRIPTION_LIMIT = 40
IDENTIFIER_LIMIT = 20
CONFIG_PATH = ".github/mlbot.yml"
_PROMOTE = "promote:"


def check_name(model: str) -> str:
    return f"{PREFIX}{model}"


def model_of(name: str) -> str | None:
    """The model a check run of this bot is about, from its name."""
    return name.removeprefix(PREFIX) if name.startswith(PREFIX) else None


@dataclass(frozen=True)
class Annotation:
    path: str
    line: int
    message: str
    title: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "start_line": self.line,
            "end_line": self.line,
            "annotation_level": "failure",
            "title": self.title[:255],
            "message": self.message[:64_000],
        }


@dataclass(frozen=True)
class Action:
    label: str
    description: str
    identifier: str

    def __post_init__(self) -> None:
        if len(self.label) > LABEL_LIMIT or len(self.description) > DESCRIPTION_LIMIT:
            raise ValueError(f"action {self.label!r} is over GitHub's limits")
        if len(self.identifier) > IDENTIFIER_LIMIT:
            raise ValueError(f"action identifier {self.identifier!r} is over 20 characters")

    def to_json(self) -> dict[str, str]:
        return {
            "label": self.label,
            "description": self.description,
            "identifier": self.identifier,
        }


@dataclass(frozen=True)
class Report:
    """One check run as GitHub will show it."""

    model: str
    head_sha: str
    conclusion: Conclusion | None  # None: still in progress
    title: str
    summary: str
    annotations: tuple[Annotation, ...] = ()
    actions: tuple[Action, ...] = ()
    details_url: str | None = None
    external_id: str | None = None

    @property
    def name(self) -> str:
        return check_name(self.model)

    def body(self) -> dict[str, Any]:
        """The fields of POST/PATCH /check-runs (annotations in the first batch only)."""
        out: dict[str, Any] = {
            "name": self.name,
            "output": {
                "title": self.title,
                "summary": self.summary,
                "annotations": [a.to_json() for a in self.annotations[:ANNOTATIONS_PER_REQUEST]],
            },
            "actions": [a.to_json() for a in self.actions],
        }
        if self.conclusion is None:
            out["status"] = "in_progress"
        else:
            out["status"] = "completed"
            out["conclusion"] = self.conclusion
        if self.details_url:
            out["details_url"] = self.details_url
        if self.external_id:
            out["external_id"] = self.external_id
        return out


def one_line(text: str, limit: int = TITLE_LIMIT) -> str:
    """Plain text on one line: check-run titles do not render Markdown."""
    flat = " ".join(text.replace("`", "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def verdict_line(model: str, shown: Mapping[str, Any]) -> str:
    """The one-line verdict the metric table opens with (`bot.diff.headline.verdict_line`),
    as plain text: built from the same facts, never unescaped from the table's Markdown."""
    # check_runs renders the table without a policy or a next step: the same facts here.
    label = baseline_label_of(shown, None)
    return one_line(headline(model, shown, baseline_label=label, markdown=False))


def conclusion_of(
    checks: Sequence[Check], approvals: Check | None
) -> tuple[Conclusion, list[Check]]:
    """The conclusion and the checks that failed (approvals last)."""
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        return "failure", failed + ([approvals] if approvals and approvals.status == "fail" else [])
    if approvals is not None and approvals.status == "fail":
        blocked = approvals.reason.startswith("changes requested")
        return ("failure" if blocked else "action_required"), [approvals]
    gated = [c for c in checks if c.status != "skip"]
    required = approvals is not None and "no approval required" not in approvals.reason
    if approvals is not None and approvals.status == "pass" and required:
        gated.append(approvals)
    return ("success" if gated else "neutral"), []


def promote_action(model: str, version: str | None, stage: str | None) -> Action | None:
    """The "Promote to <stage>" button, or None where GitHub's limits leave no clear label."""
    if version is None or stage is None:
        return None
    identifier = f"{_PROMOTE}{stage}"
    if len(identifier) > IDENTIFIER_LIMIT:
        return None
    label = next(
        (t for t in (f"Promote to {stage}", f"Promote {stage}") if len(t) <= LABEL_LIMIT), None
    )
    if label is None:
        return None
    description = next(
        t
        for t in (
            f"/promote {model} {version} to {stage}",
            f"/promote {version} to {stage}",
            "/promote as you: the same gates",
        )
        if len(t) <= DESCRIPTION_LIMIT
    )
    return Action(label, description, identifier)


def requested_stage(identifier: str) -> str | None:
    """The stage a button click asks for, or None for an identifier this bot never offered."""
    from bot.registry.names import STAGE_NAME

    if not identifier.startswith(_PROMOTE):
        return None
    stage = identifier.removeprefix(_PROMOTE)
    return stage if STAGE_NAME.match(stage) else None


# -- annotations --------------------------------------------------------------------------------
def _line_of(text: str | None, *needles: str, after: int = 0) -> int | None:
    """1-based line of the first needle found (as a YAML/JSON key) at or after line `after`."""
    if not text:
        return None
    lines = text.splitlines()
    for needle in needles:
        key = re.compile(rf"^\s*[\"']?{re.escape(needle)}[\"']?\s*:")
        for index in range(after, len(lines)):
            if key.match(lines[index]):
                return index + 1
    return None


def annotations_for(
    model: str,
    failed: Sequence[Check],
    *,
    config_text: str | None,
    metrics_path: str | None,
    metrics_text: str | None,
) -> list[Annotation]:
    """Annotations on the lines that set each failed gate, and on the metric that failed it.

    `.github/mlbot.yml`: the gate's own key under the model when it sets one,
    else the model's entry, else the policy line. The metrics file (when the
    model names one): the failing metric's key, else its first line.
    """
    out: list[Annotation] = []
    model_line = _line_of(config_text, model)
    start = (model_line or 1) - 1
    for check in failed:
        metric = check.name.split(":", 1)[1] if ":" in check.name else None
        message = check.reason + (f"\nFix: {check.fix}" if check.fix else "")
        title = f"{check_name(model)}: {check.name} failed"
        if check.name == "approvals":
            line = _line_of(config_text, "approvals", after=start) or model_line or 1
            out.append(Annotation(CONFIG_PATH, line, message, title))
            continue
        line = None
        if metric is not None:
            line = _line_of(config_text, metric, after=start)
        line = line or model_line or _line_of(config_text, "policy") or 1
        out.append(Annotation(CONFIG_PATH, line, message, title))
        if metrics_path and metric is not None and check.name.startswith("metric:"):
            where = _line_of(metrics_text, metric) or 1
            out.append(Annotation(metrics_path, where, message, title))
    return out[:ANNOTATIONS_PER_REQUEST]


# -- the report ---------------------------------------------------------------------------------
@dataclass
class Judged:
    """What the check run is built from: the comment's judged evaluation and its table."""

    model: str
    head_sha: str
    shown: Mapping[str, Any] | None  # compare_with_registry's output; None: nothing to judge
    table: str  # the metric table, rendered exactly as in the comment
    approvals: Check | None = None
    problems: list[str] = field(default_factory=list)
    untrusted: str | None = None  # why the evidence cannot pass (e.g. a fork's run)
    details_url: str | None = None
    external_id: str | None = None
    next_stage: str | None = None
    version: str | None = None  # the candidate, when registered


def report(
    judged: Judged,
    *,
    config_text: str | None = None,
    metrics_path: str | None = None,
    metrics_text: str | None = None,
) -> Report:
    """The finished check run for a judged evaluation."""
    model = judged.model
    if judged.shown is None:
        why = "; ".join(judged.problems) or "no evaluation was uploaded"
        return Report(
            model,
            judged.head_sha,
            "failure",
            one_line(f"❌ mlbot · {model}: nothing to judge ({why})"),
            _summary(judged.table or f"No evaluation of `{model}` could be read: {why}.", []),
            details_url=judged.details_url,
            external_id=judged.external_id,
        )
    checks = [_check(c) for c in (judged.shown.get("verdict") or {}).get("checks", [])]
    conclusion, failed = conclusion_of(checks, judged.approvals)
    title = verdict_line(model, judged.shown)
    notes = list(judged.problems)
    if judged.untrusted is not None:
        # Evidence the bot cannot trust never turns a required check green.
        conclusion = "action_required" if conclusion != "failure" else conclusion
        notes.insert(0, judged.untrusted)
        title = one_line(f"{title} · not trusted: {judged.untrusted}")
    elif conclusion == "action_required" and judged.approvals is not None:
        title = one_line(f"{title} · waiting for approval: {judged.approvals.reason}")
    elif conclusion == "failure" and judged.approvals in failed and len(failed) == 1:
        title = one_line(f"{title} · {judged.approvals.reason}")
    actions: tuple[Action, ...] = ()
    # Only on a green check: a click then normally promotes at once (a button has no
    # comment to wait on, so a click that finds approvals missing is refused, not pending).
    if conclusion == "success" and judged.untrusted is None:
        button = promote_action(model, judged.version, judged.next_stage)
        actions = (button,) if button else ()
    approvals_text = None
    if judged.approvals is not None:
        mark = {"pass": "✅", "fail": "❌", "skip": "➖"}[judged.approvals.status]
        approvals_text = f"{mark} **approvals**: {judged.approvals.reason}" + (
            f" _Fix: {judged.approvals.fix}_" if judged.approvals.fix else ""
        )
    return Report(
        model,
        judged.head_sha,
        conclusion,
        title,
        _summary(judged.table, notes, approvals_text),
        tuple(
            annotations_for(
                model,
                failed,
                config_text=config_text,
                metrics_path=metrics_path,
                metrics_text=metrics_text,
            )
        ),
        actions,
        judged.details_url,
        judged.external_id,
    )


def in_progress(model: str, head_sha: str, run_name: str | None, **kw: Any) -> Report:
    what = f"workflow run {run_name}" if run_name else "the model workflow"
    return Report(
        model,
        head_sha,
        None,
        one_line(f"⏳ mlbot · {model}: waiting for {what}"),
        f"mlbot judges `{model}` when {what} has uploaded its evaluation.",
        **kw,
    )


def _check(data: Mapping[str, Any]) -> Check:
    return Check(
        str(data.get("name")), data.get("status", "fail"), str(data.get("reason")), data.get("fix")
    )


def _summary(table: str, notes: Sequence[str], approvals: str | None = None) -> str:
    parts = [table.rstrip()]
    if approvals:
        parts.append(approvals)
    parts += [f"> {' '.join(n.split())}" for n in notes]
    text = "\n\n".join(parts) + "\n"
    if len(text) > SUMMARY_LIMIT:
        cut = "\n\n_Cut to fit GitHub's check-run summary limit; the PR comment has it all._\n"
        text = text[: SUMMARY_LIMIT - len(cut)] + cut
    return text
