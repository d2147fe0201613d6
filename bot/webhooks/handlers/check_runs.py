"""Check runs `mlbot / <model>`: started, judged, judged again, and on merge-group heads.

`workflow_run` requested / in_progress -> `in_progress` on the PR head;
`workflow_run.completed` -> the verdict (beside the metric comment, from the same run);
`pull_request_review` submitted / dismissed -> judged again (approvals changed);
`check_run.rerequested` (someone pressed Re-run) -> judged again as a new check run;
`merge_group.checks_requested` -> the queued PR's verdict on the group's head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.github.pulls import PR_EVENTS
from bot.webhooks.handlers.shared import repo_context, run_pulls
from bot.webhooks.payloads import (
    CheckRunEvent,
    MergeGroupEvent,
    PullRequestReviewEvent,
    WorkflowRunEvent,
)
from bot.webhooks.router import Router

if TYPE_CHECKING:
    from bot.chatops.check_runs import Posted
    from bot.webhooks.context import JobContext

router = Router()


def _log(ctx: JobContext, what: str, posted: list[Posted]) -> None:
    if posted:
        ctx.log.info(
            what,
            extra={
                "check_runs": [
                    {"model": p.model, "conclusion": p.conclusion, "action": p.action}
                    for p in posted
                ]
            },
        )


def _judge_run(event: WorkflowRunEvent, ctx: JobContext, *, completed: bool) -> None:
    from bot.chatops import check_runs

    if event.repository is None or event.workflow_run.event not in PR_EVENTS:
        return
    pulls = run_pulls(ctx, event)
    if not pulls:
        return
    rc = repo_context(ctx, event)
    run = event.workflow_run.model_dump()
    post = check_runs.completed if completed else check_runs.started
    what = "check runs judged" if completed else "check runs started"
    _log(ctx, what, post(rc, run, pulls, ctx.settings.app_id))


@router.register("workflow_run", action="requested")
@router.register("workflow_run", action="in_progress")
def on_run_started(event: WorkflowRunEvent, ctx: JobContext) -> None:
    _judge_run(event, ctx, completed=False)


@router.register("workflow_run", action="completed")
def on_run_completed(event: WorkflowRunEvent, ctx: JobContext) -> None:
    _judge_run(event, ctx, completed=True)


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="dismissed")
def on_review(event: PullRequestReviewEvent, ctx: JobContext) -> None:
    from bot.chatops import check_runs

    state = (event.review.state or "").lower()
    if event.repository is None or (event.action == "submitted" and state == "commented"):
        return  # a comment-only review changes no approval: nothing to judge again
    rc = repo_context(ctx, event)
    reviewer = (event.review.user.login if event.review.user else "").lower()
    if not check_runs.owns_a_model(rc, reviewer):
        return  # only a code owner's review (or its dismissal) changes the approvals
    pull = rc.pull(event.pull_request.number)
    if pull.get("state") != "open":
        return
    _log(ctx, "check runs re-judged", check_runs.rejudge(rc, pull, app_id=ctx.settings.app_id))


@router.register("check_run", action="rerequested")
def on_rerequested(event: CheckRunEvent, ctx: JobContext) -> None:
    from bot.chatops import check_runs
    from bot.chatops.check_report import model_of

    model = model_of(event.check_run.name)
    if event.repository is None or model is None or not _is_ours(event, ctx):
        return
    rc = repo_context(ctx, event)
    pull = check_runs.pull_of_check_run(rc, event.check_run.model_dump())
    if pull is None:
        ctx.log.info("re-run of a check run on no open PR head", extra={"model": model})
        return
    posted = check_runs.rejudge(rc, pull, models=[model], app_id=ctx.settings.app_id, new=True)
    _log(ctx, "check run re-run", posted)


@router.register("merge_group", action="checks_requested")
def on_merge_group(event: MergeGroupEvent, ctx: JobContext) -> None:
    from bot.chatops import check_runs

    if event.repository is None:
        return
    rc = repo_context(ctx, event)
    group = event.merge_group.model_dump()
    _log(ctx, "merge group judged", check_runs.for_merge_group(rc, group, ctx.settings.app_id))


def _is_ours(event: CheckRunEvent, ctx: JobContext) -> bool:
    """GitHub sends check_run events of every App's runs; only this App's are answered."""
    app = event.check_run.app or {}
    if ctx.settings.app_id is not None:
        return app.get("id") == ctx.settings.app_id
    return True
