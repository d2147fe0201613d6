"""Chat-ops: commands in new comments, and pending promotions completed by reviews.

`issue_comment.created` -> every command line of the comment (edits never
re-run: `edited` is not routed); an 👀 reaction at once, then one reply per
command (`bot.commands.dispatch`). Comments by bots, the bot itself included,
are ignored. `pull_request_review.submitted` (approved, by anyone) and
`pull_request_review.dismissed` -> the PR's pending `/promote`s and `/rollback`s
are re-checked: each completes when every gate passes, or its approval report
says who approved and which approvals do not count, and why. A code owner's
request for changes (also a `submitted` review) is re-checked too: it blocks,
so the pending command is refused at once, naming who asked for changes.

A command runs at most once per (repository, comment, line), whatever
delivery carries it: a retried job, a redelivery or a replayed payload finds
the command's reply (or its registry commit) and does nothing more. A job
that fails on a transient GitHub error is retried by the workers; on its last
attempt the error is reported in a reply instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bot.webhooks.payloads import IssueCommentEvent, PullRequestReviewEvent
from bot.webhooks.router import Router

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.webhooks.context import JobContext

router = Router()


def _repo_context(ctx: JobContext, event: Any) -> RepoContext:
    from bot.chatops.context import RepoContext

    repo = event.repository
    return RepoContext(
        ctx.github,
        repo.full_name,
        repo.default_branch or "main",
        ctx.settings.bot_login,
        model_lock=ctx.model_lock,
    )


@router.register("issue_comment", action="created")
def on_comment(event: IssueCommentEvent, ctx: JobContext) -> None:
    from bot.chatops.checks import is_bot
    from bot.commands import dispatch, replies
    from bot.commands.request import parse_time

    user = event.comment.user or event.sender
    if user is None or event.repository is None:
        return
    if is_bot(user.login, user.type, ctx.settings.bot_login):
        return
    invocations, over = dispatch.commands_in(event.comment.body or "")
    if not invocations:
        return
    rc = _repo_context(ctx, event)
    comment = dispatch.Comment(
        number=event.issue.number,
        is_pull=event.issue.pull_request is not None,
        author=user.login,
        id=event.comment.id,
        url=event.comment.html_url or "",
        created_at=parse_time(event.comment.created_at),
        body=event.comment.body or "",
    )
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlbot-ack") as ack:
        # The acknowledgement goes out while the first command is being checked.
        acked = ack.submit(replies.react, rc, event.comment.id, "eyes")
        answered = dispatch.run_comment(
            rc,
            comment,
            invocations,
            over,
            delivery_id=ctx.delivery_id,
            retry=ctx.attempt > 1,
            last_attempt=ctx.attempt >= ctx.settings.max_attempts,
        )
        acked.result()
    for req, reply in answered:
        ctx.log.info(
            "command answered",
            extra={"command": req.invocation.name, "outcome": reply.kind, "number": req.number},
        )


@router.register("pull_request_review", action="submitted")
@router.register("pull_request_review", action="dismissed")
def on_review(event: PullRequestReviewEvent, ctx: JobContext) -> None:
    from bot.commands import pending

    if event.repository is None:
        return
    # An approval, whoever gave it (a non-owner's is reported as not counting), one taken
    # back, or a request for changes (a code owner's ends a pending command at once, with
    # its reason, rather than at the next approval); a plain comment changes nothing.
    state = (event.review.state or "").lower()
    if event.action != "dismissed" and state not in {"approved", "changes_requested"}:
        return
    rc = _repo_context(ctx, event)
    results = pending.complete_all(
        rc,
        event.pull_request.number,
        rc.default_branch,
        is_pull=True,
        delivery_id=ctx.delivery_id,
        last_attempt=ctx.attempt >= ctx.settings.max_attempts,
    )
    if results:
        ctx.log.info(
            "pending commands re-checked",
            extra={"number": event.pull_request.number, "results": [r["state"] for r in results]},
        )
