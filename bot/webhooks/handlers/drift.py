"""`issues.opened` / `issues.labeled` on a drift issue: the retraining PR, if the policy says so.

A drift issue carries `mlbot:drift` and exactly one `model:<name>` label; the
model must be configured, and its policy (read from the default branch) must
turn `drift.auto_retrain` on. Otherwise the issue waits for a `/retrain`.
"""

from __future__ import annotations

from bot.webhooks.context import JobContext
from bot.webhooks.payloads import IssuesEvent
from bot.webhooks.router import Router

router = Router()


def _drift_model(event: IssuesEvent) -> str | None:
    from bot.chatops.drift_issue import DRIFT_LABEL, model_of

    issue = event.issue
    names = [label.name for label in issue.labels]
    if issue.is_pull_request or issue.state not in (None, "open") or DRIFT_LABEL not in names:
        return None
    # Only the labels that make an issue a drift issue trigger (not e.g. "priority").
    added = event.label.name if event.action == "labeled" and event.label is not None else None
    if added is not None and added != DRIFT_LABEL and not added.startswith("model:"):
        return None
    return model_of(names)


@router.register("issues", action="opened")
@router.register("issues", action="labeled")
def on_drift_issue(event: IssuesEvent, ctx: JobContext) -> None:
    model = _drift_model(event)
    repo = event.repository
    if model is None or repo is None:
        return
    from bot.chatops.retrain import auto_retrain_enabled, open_retrain_pr

    branch = repo.default_branch or "main"
    if not auto_retrain_enabled(ctx.github, repo.full_name, branch, model):
        ctx.log.info("drift issue: auto_retrain is off", extra={"model": model})
        return
    opener = event.issue.user.login if event.issue.user else "mlbot"
    pr = open_retrain_pr(
        ctx.github,
        repo.full_name,
        model,
        event.issue.number,
        requested_by=opener,
        reason="data drift",  # the body links the issue itself
        default_branch=branch,
    )
    ctx.log.info(
        "retraining PR",
        extra={"model": model, "issue": event.issue.number, "pr": pr.number, "created": pr.created},
    )
