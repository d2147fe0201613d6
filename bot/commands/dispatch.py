"""From a comment to its commands' replies: the comment entry point of the command layer.

The commands of one comment run in order, each through `run.attempt` (at
most once per identity, one reply, one error policy), so a bug in one still
lets the others run. At most `MAX_COMMANDS` run; the lines past the limit
get one reply naming them. Other surfaces (a check-run button) build a
`Request` with their own `source` and call `run.attempt` with `table.get`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands import grammar, once, replies, run, table
from bot.commands.replies import Reply
from bot.commands.request import Request

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext

MAX_COMMANDS = 5  # per comment; more is a paste accident, not a plan


@dataclass(frozen=True)
class Comment:
    """A newly created comment, as the webhook payload tells it."""

    number: int
    is_pull: bool
    author: str
    id: int
    url: str
    created_at: dt.datetime
    body: str


def commands_in(body: str) -> tuple[list[grammar.Invocation], list[grammar.Invocation]]:
    """(the command lines to run, the ones past the limit) of a comment body."""
    known = table.names()
    found = [
        inv for inv in grammar.find(body) if inv.name in known or grammar.suggest(inv.name, known)
    ]
    return found[:MAX_COMMANDS], found[MAX_COMMANDS:]


def run_comment(
    rc: RepoContext,
    comment: Comment,
    invocations: list[grammar.Invocation],
    over: list[grammar.Invocation],
    *,
    delivery_id: str = "",
    retry: bool = False,
    last_attempt: bool = False,
) -> list[tuple[Request, Reply]]:
    """Run each command of the comment once; returns what was answered this time."""
    answered = []
    for inv in invocations:
        req = _request(rc, comment, inv, delivery_id, retry, last_attempt)
        command = table.get(inv.name)
        if command is None:
            reply: Reply | None = _unknown(rc, req)
        else:
            reply = run.attempt(rc, req, command, last_attempt=last_attempt)
        if reply is not None:
            answered.append((req, reply))
    if over:
        req = _request(rc, comment, over[0], delivery_id, retry, last_attempt)
        if once.reply_outcome(rc, req) is None:
            reply = Reply(
                "refused",
                "overflow",
                {"lines": [{"line": i.line, "text": i.text} for i in over], "limit": MAX_COMMANDS},
            )
            replies.post(rc, req, reply, fresh=True)
            answered.append((req, reply))
    return answered


def _request(
    rc: RepoContext,
    comment: Comment,
    inv: grammar.Invocation,
    delivery_id: str,
    retry: bool,
    last_attempt: bool,
) -> Request:
    return Request(
        full_name=rc.full_name,
        number=comment.number,
        is_pull=comment.is_pull,
        requester=comment.author,
        comment_id=comment.id,
        comment_url=comment.url,
        created_at=comment.created_at,
        invocation=inv,
        default_branch=rc.default_branch,
        bot_login=rc.bot_login,
        retry=retry,
        last_attempt=last_attempt,
        delivery_id=delivery_id,
    )


def _unknown(rc: RepoContext, req: Request) -> Reply | None:
    if once.reply_outcome(rc, req) is not None:
        return None
    suggestion = grammar.suggest(req.invocation.name, table.names())
    reply = Reply("usage", "unknown", {"name": req.invocation.name, "suggestion": suggestion})
    replies.post(rc, req, reply, fresh=True)
    return reply
