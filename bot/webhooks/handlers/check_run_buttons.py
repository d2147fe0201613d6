"""`check_run.requested_action`: a click on "Promote to <stage>" is a `/promote` by the clicker.

The click becomes the command `/promote <model> to <stage>` on the PR whose head the
check run is on, asked by the person who clicked (`sender`), and runs through the
command layer's one gated path (`bot.commands.run`): the same permission check,
CODEOWNERS approvals, policy gates and audit trailers as the comment; the outcome is
replied on the PR. The version is the one the PR head's evaluation names, as for a
`/promote` without one.

Identity (run at most once): (repository, `check-run`, the check run's id, the
clicker's user id). A replayed payload, a redelivery or a double click answers once;
someone else's click is their own command. To click again after a refusal, press
"Re-run" first (a new check run).

A button has no comment to wait on, so a click that lacks only approvals is refused
with what is missing instead of pending (the bot offers the button only on a green
check, so this happens only when something changed since).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.webhooks.handlers.shared import repo_context
from bot.webhooks.payloads import CheckRunEvent
from bot.webhooks.router import Router

if TYPE_CHECKING:
    from bot.commands.replies import Reply
    from bot.webhooks.context import JobContext

router = Router()
SOURCE = "check-run"


@router.register("check_run", action="requested_action")
def on_button(event: CheckRunEvent, ctx: JobContext) -> None:
    from bot.chatops import check_runs
    from bot.chatops.check_report import model_of, requested_stage
    from bot.chatops.checks import is_bot
    from bot.commands import grammar, once, replies, run, table
    from bot.commands.request import Request, parse_time

    check_run, clicked, sender = event.check_run, event.requested_action, event.sender
    model = model_of(check_run.name)
    stage = requested_stage(clicked.identifier) if clicked else None
    if event.repository is None or sender is None or model is None or stage is None:
        return
    if not _is_ours(event, ctx) or is_bot(sender.login, sender.type, ctx.settings.bot_login):
        return
    rc = repo_context(ctx, event)
    pull = check_runs.pull_of_check_run(rc, check_run.model_dump())
    if pull is None:
        ctx.log.info("button on a check run of no open PR head", extra={"model": model})
        return
    text = f"/promote {model} to {stage}"
    [invocation] = grammar.find(text)
    req = Request(
        full_name=rc.full_name,
        number=int(pull["number"]),
        is_pull=True,
        requester=sender.login,
        comment_id=check_run.id,
        comment_url=check_run.html_url or "",
        created_at=parse_time(None),
        invocation=grammar.Invocation(
            invocation.name, invocation.args, int(sender.id or 0), text, text
        ),
        default_branch=rc.default_branch,
        bot_login=rc.bot_login,
        retry=ctx.attempt > 1,
        delivery_id=ctx.delivery_id,
        source=SOURCE,
    )
    command = table.get("promote")
    assert command is not None
    last = ctx.attempt >= ctx.settings.max_attempts
    with once.serialised(rc, req.identity):
        if once.reply_outcome(rc, req) is not None:
            return  # this click was answered already
        reply = run.execute(rc, req, command, last_attempt=last)
        if reply is None:
            return
        reply = _without_waiting(reply)
        replies.post(rc, req, reply, fresh=True)
    ctx.log.info(
        "button answered",
        extra={"model": model, "stage": stage, "outcome": reply.kind, "number": req.number},
    )


def _without_waiting(reply: Reply) -> Reply:
    """A pending outcome, refused with what it waits for (nothing would complete it)."""
    from bot.commands.replies import Reply

    if reply.kind != "pending":
        return reply
    waiting = [c for c in reply.context.get("checks", []) if c.status == "fail"]
    why = "; ".join(c.reason for c in waiting) or "approvals are missing"
    return Reply(
        "refused",
        "usage",
        {
            "why": f"the button promotes only what is approved now: {why}",
            "fix": next((c.fix for c in waiting if c.fix), None)
            or "Ask a code owner to approve, then comment `/promote` or press Re-run and click.",
        },
    )


def _is_ours(event: CheckRunEvent, ctx: JobContext) -> bool:
    app = event.check_run.app or {}
    return ctx.settings.app_id is None or app.get("id") == ctx.settings.app_id
