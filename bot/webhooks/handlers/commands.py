"""Chat-ops: commands in new comments, and pending promotions completed by reviews.

`issue_comment.created` -> every command line of the comment (edits never
re-run: `edited` is not routed); an 👀 reaction at once, then one reply per
command. Comments by bots, the bot itself included, are ignored.
`pull_request_review.submitted` (approved) -> the PR's pending `/promote`s
are re-checked and complete when every gate passes.

A job that fails on a transient GitHub error is retried by the workers; on
its last attempt the error is reported in a reply instead, so every command
ends done or reported. A retried attempt does not re-run a command that
already has a reply.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bot.webhooks.payloads import IssueCommentEvent, PullRequestReviewEvent
from bot.webhooks.router import Router

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext, Request
    from bot.chatops.replies import Reply
    from bot.webhooks.context import JobContext

router = Router()
MAX_COMMANDS = 5  # per comment; more is a paste accident, not a plan


def _repo_context(ctx: JobContext, event: Any) -> RepoContext:
    from bot.chatops.context import RepoContext

    repo = event.repository
    return RepoContext(
        ctx.github, repo.full_name, repo.default_branch or "main", ctx.settings.bot_login
    )


@router.register("issue_comment", action="created")
def on_comment(event: IssueCommentEvent, ctx: JobContext) -> None:
    from bot.chatops import replies
    from bot.chatops.checks import is_bot
    from bot.commands import grammar, registry

    user = event.comment.user or event.sender
    if user is None or event.repository is None:
        return
    if is_bot(user.login, user.type, ctx.settings.bot_login):
        return
    known = registry.names()
    invocations = [
        inv
        for inv in grammar.find(event.comment.body or "")
        if inv.name in known or grammar.suggest(inv.name, known)
    ][:MAX_COMMANDS]
    if not invocations:
        return
    rc = _repo_context(ctx, event)
    fresh = ctx.attempt == 1
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlbot-ack") as ack:
        # The acknowledgement goes out while the first command is being checked.
        acked = ack.submit(replies.react, rc, event.comment.id, "eyes")
        _run_all(rc, event, ctx, user.login, invocations, fresh)
        acked.result()


def _run_all(
    rc: RepoContext,
    event: IssueCommentEvent,
    ctx: JobContext,
    login: str,
    invocations: list[Any],
    fresh: bool,
) -> None:
    from bot.chatops import replies
    from bot.chatops.context import Request, parse_time

    answered = set() if fresh else _answered(rc, event.issue.number)
    last_attempt = ctx.attempt >= ctx.settings.max_attempts
    for inv in invocations:
        req = Request(
            full_name=rc.full_name,
            number=event.issue.number,
            is_pull=event.issue.pull_request is not None,
            requester=login,
            comment_id=event.comment.id,
            comment_url=event.comment.html_url or "",
            created_at=parse_time(event.comment.created_at),
            invocation=inv,
            default_branch=rc.default_branch,
            bot_login=rc.bot_login,
            retry=not fresh,
        )
        if req.key in answered:
            continue
        reply = run(rc, req, last_attempt=last_attempt)
        replies.post(rc, req, reply, fresh=fresh)
        ctx.log.info(
            "command answered",
            extra={"command": inv.name, "outcome": reply.kind, "number": req.number},
        )


@router.register("pull_request_review", action="submitted")
def on_review(event: PullRequestReviewEvent, ctx: JobContext) -> None:
    from bot.chatops import pending

    if event.repository is None or (event.review.state or "").lower() != "approved":
        return
    rc = _repo_context(ctx, event)
    results = pending.complete_all(rc, event.pull_request.number, rc.default_branch, is_pull=True)
    if results:
        ctx.log.info(
            "pending commands re-checked",
            extra={"number": event.pull_request.number, "results": [r["state"] for r in results]},
        )


def run(rc: RepoContext, req: Request, *, last_attempt: bool = False) -> Reply:
    """One command: parse, check, act; every way it can end becomes a reply."""
    from bot.chatops.replies import Reply, UsageError
    from bot.commands import grammar, registry
    from bot.errors import MlbotError
    from bot.server.errors import is_transient

    inv = req.invocation
    module = registry.get(inv.name)
    if module is None:
        suggestion = grammar.suggest(inv.name, registry.names())
        return Reply("usage", "unknown", {"name": inv.name, "suggestion": suggestion})
    try:
        args = module.parse(inv.args)
        return module.handle(rc, req, args)
    except UsageError as exc:
        return Reply("usage", "usage", {"why": exc.message, "fix": exc.fix})
    except MlbotError as exc:
        # A configuration problem on the default branch (invalid mlbot.yml, bad policy file).
        return Reply("refused", "usage", {"why": str(exc), "fix": None})
    except Exception as exc:
        if is_transient(exc) and last_attempt:
            return Reply("error", "error", {"why": f"GitHub kept failing ({_short(exc)})"})
        raise


def _answered(rc: RepoContext, number: int) -> set[str]:
    """Commands an earlier attempt of this job already replied to."""
    from bot.chatops.replies import parse_marker

    me = rc.bot_login.lower()
    keys = set()
    for comment in rc.comments(number):
        if ((comment.get("user") or {}).get("login") or "").lower() != me:
            continue
        found = parse_marker(comment.get("body"))
        if found:
            keys.add(found["key"])
    return keys


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"
