"""An alert from `POST /alerts` (job kind `mlbot_alert`): the incident issue, and a rollback
if the policy says so (`bot.incidents`).

Alerts come with no installation: the client is the App's installation on the
repository the alert names. An alert for a model the repository does not
configure, or a stage its policy does not know, is logged and dropped.
"""

from __future__ import annotations

from typing import Any

from bot.incidents.alerts import ALERT_EVENT, target_of
from bot.webhooks.context import JobContext
from bot.webhooks.payloads import AlertEvent, IssuesEvent
from bot.webhooks.router import Router

router = Router()


def _client(ctx: JobContext, repository: str) -> Any:
    for_repository = getattr(ctx.github_factory, "for_repository", None)
    return for_repository(repository) if for_repository else ctx.github


@router.register(ALERT_EVENT)
def on_alert(event: AlertEvent, ctx: JobContext) -> None:
    from bot.chatops.context import RepoContext
    from bot.incidents import auto_rollback, issue

    target = target_of(event.alert)
    if target is None:  # the endpoint stores only labelled alerts; a stored one is checked again
        return
    gh = _client(ctx, target.repository)
    meta = gh.rest("GET", f"/repos/{target.repository}")
    rc = RepoContext(
        gh,
        target.repository,
        str(meta.get("default_branch") or "main"),
        ctx.settings.bot_login,
        model_lock=ctx.model_lock,
    )
    if target.model not in rc.config.models:
        ctx.log.warning(
            "alert for a model the repository does not configure", extra={"model": target.model}
        )
        return
    policy = rc.policy(target.model)
    stage = target.stage or policy.baseline_stage
    if stage not in policy.stages:
        ctx.log.warning("alert for an unknown stage", extra={"model": target.model})
        return
    with issue.incident_lock(rc, target.model):
        if event.alert.status == "firing":
            incident = issue.on_firing(rc, target.model, stage, event.alert)
            auto_rollback.maybe_roll_back(rc, incident, event.alert)
        else:
            issue.on_resolved(rc, target.model, stage, event.alert)


@router.register("issues", action="closed")
def on_incident_closed(event: IssuesEvent, ctx: JobContext) -> None:
    """An incident issue closed: its timeline, once."""
    from bot.chatops.context import RepoContext
    from bot.incidents import issue, timeline
    from bot.incidents.record import INCIDENT_LABEL, read

    repo = event.repository
    names = [label.name for label in event.issue.labels]
    if repo is None or INCIDENT_LABEL not in names or event.issue.is_pull_request:
        return
    author = event.issue.user.login if event.issue.user else ""
    record = read(event.issue.body)
    if record is None or author.lower() != ctx.settings.bot_login.lower():
        return  # not an incident mlbot keeps
    rc = RepoContext(
        ctx.github,
        repo.full_name,
        repo.default_branch or "main",
        ctx.settings.bot_login,
        model_lock=ctx.model_lock,
    )
    with issue.incident_lock(rc, record.model):
        current = issue.find(rc, record.model, record.stage)
        if current is None or current.number != event.issue.number or current.state != "closed":
            return  # reopened meanwhile, or another issue
        closer = event.sender.login if event.sender else "someone"
        timeline.post_on_close(rc, current, closer)
