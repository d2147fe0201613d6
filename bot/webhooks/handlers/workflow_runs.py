"""`workflow_run.completed`: the sticky metric comment on the PRs the run evaluated."""

from __future__ import annotations

from bot.github.pulls import PR_EVENTS
from bot.webhooks.context import JobContext
from bot.webhooks.payloads import WorkflowRunEvent
from bot.webhooks.router import Router

router = Router()


@router.register("workflow_run", action="completed")
def on_workflow_run_completed(event: WorkflowRunEvent, ctx: JobContext) -> None:
    from bot.chatops.metric_comment import update_for_workflow_run
    from bot.webhooks.handlers.shared import repo_context, run_pulls

    shared = {}
    if event.repository is not None and event.workflow_run.event in PR_EVENTS:
        # Read once for this job's other handlers too (the check runs judge the same run).
        shared = {"reader": repo_context(ctx, event).branch, "pulls": run_pulls(ctx, event)}
    outcomes = update_for_workflow_run(
        ctx.github, event, bot_login=ctx.settings.bot_login, **shared
    )
    for outcome in outcomes:
        ctx.log.info(
            "metric comment",
            extra={
                "model": outcome.model,
                "pull_request": outcome.number,
                "outcome": outcome.action,
                "reason": outcome.reason,
                "parts": outcome.parts,
                "run_id": event.workflow_run.id,
            },
        )
