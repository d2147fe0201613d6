"""Running one command, with one error policy for every entry point.

Every way a command can end becomes a reply: a usage error, a refusal, a
configuration problem on the default branch, GitHub failing on the last
attempt, or a bug. A bug's reply says an internal error happened, names the
delivery, and says what this command wrote (usually nothing); the caller
goes on with the comment's other commands. Only a transient GitHub failure
before the last attempt propagates, so the job is retried (answered commands
are not run again: `bot.commands.once`).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import TYPE_CHECKING

from bot.commands import once, replies
from bot.commands.replies import Reply
from bot.errors import MlbotError, UsageError
from bot.server.errors import is_transient

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.interface import Command
    from bot.commands.request import Request

log = logging.getLogger(__name__)


def execute(
    rc: RepoContext,
    req: Request,
    command: Command,
    *,
    completing: bool = False,
    last_attempt: bool = False,
) -> Reply | None:
    """Parse and handle one command; None: nothing to reply (a pending command still
    waiting, or completed by another event first)."""
    before = len(rc.written)
    try:
        args = command.parse(req.invocation.args)
        return command.handle(rc, req, args, completing=completing)
    except UsageError as exc:
        return Reply(
            "refused" if completing else "usage", "usage", {"why": exc.message, "fix": exc.fix}
        )
    except MlbotError as exc:
        # A configuration problem on the default branch (invalid mlbot.yml, a corrupt record).
        return Reply("refused", "usage", {"why": str(exc), "fix": None})
    except Exception as exc:
        if is_transient(exc) and not last_attempt:
            raise
        return error_reply(req, exc, rc.written[before:])


def error_reply(req: Request, exc: BaseException, written: list[str]) -> Reply:
    internal = not is_transient(exc)
    if internal:
        log.exception(
            "command failed",
            extra={"command": req.invocation.name, "key": req.key, "delivery": req.delivery_id},
        )
        why = "an internal error stopped it"
    else:
        text = " ".join(str(exc).split())
        why = f"GitHub kept failing ({type(exc).__name__}: {text[:200]})"
    return Reply(
        "error",
        "error",
        {"why": why, "written": list(written), "delivery": req.delivery_id, "internal": internal},
    )


def attempt(
    rc: RepoContext, req: Request, command: Command, *, last_attempt: bool = False
) -> Reply | None:
    """A command from a new comment (or another surface): at most once, one reply.

    Returns the reply posted, or None when this command has an outcome already (a
    replay, a redelivery, a retried job that got this far before).
    """
    guard = once.serialised(rc, req.identity) if command.gated else nullcontext()
    with guard:
        if once.reply_outcome(rc, req) is not None:
            return None
        reply = execute(rc, req, command, last_attempt=last_attempt)
        if reply is not None:
            replies.post(rc, req, reply, fresh=True)
        return reply
