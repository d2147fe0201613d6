"""Pending promotions and rollbacks, rebuilt from the issue's or PR's history.

Nothing is stored. A command is pending when:
- a person's comment (never edited since it was created) holds the command line;
- the bot answered it with a "pending" reply (the bot's own comment, never edited),
  whose marker records the PR head it was judged on and when it expires;
- no later reply of the bot closed it (done, refused, expired).
Everything else (who asked, what, the approvals, every gate) is read again
from the original comment and the current state, and all gates run again: a
pending reply only says "look again", never "this is allowed". An edited
comment or reply is not trusted and ends the wait (fail closed).
A pending command expires when the PR's head moves or after the policy's
time limit; the expiry is reported once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops import replies
from bot.chatops.checks import is_bot
from bot.chatops.context import Request, parse_time

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.grammar import Invocation

log = logging.getLogger(__name__)
WAITS_FOR = ("promote", "rollback")


def marker_extra(head_sha: str | None, hours: float, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + hours * 3600)
    return f"head={head_sha or '-'} expires={expires}"


@dataclass(frozen=True)
class Pending:
    request: Request
    head: str
    expires: int


def find(rc: RepoContext, number: int, default_branch: str, *, is_pull: bool) -> list[Pending]:
    from bot.commands import grammar

    comments = rc.comments(number)
    me = rc.bot_login.lower()
    waiting: dict[str, dict[str, str]] = {}
    closed: set[str] = set()
    for comment in comments:
        login = ((comment.get("user") or {}).get("login") or "").lower()
        if login != me:
            continue
        found = replies.parse_marker(comment.get("body"))
        if found is None:
            continue
        if found["kind"] != "pending":
            closed.add(found["key"])
        elif comment.get("updated_at") != comment.get("created_at"):
            closed.add(found["key"])  # an edited pending reply is not trusted
        elif found["part"] == "1":
            waiting.setdefault(found["key"], found)
    people = {int(c["id"]): c for c in comments}
    out = []
    for key, fields in waiting.items():
        if key in closed:
            continue
        comment_id, _, line = key.partition(".")
        source = people.get(int(comment_id))
        if source is None:
            continue
        user = source.get("user") or {}
        if is_bot(user.get("login") or "", user.get("type"), rc.bot_login):
            continue
        if source.get("updated_at") != source.get("created_at"):
            continue
        invocation: Invocation | None = next(
            (i for i in grammar.find(source.get("body") or "") if i.line == int(line)), None
        )
        if invocation is None or invocation.name not in WAITS_FOR:
            continue
        request = Request(
            full_name=rc.full_name,
            number=number,
            is_pull=is_pull,
            requester=user.get("login") or "",
            comment_id=int(comment_id),
            comment_url=str(source.get("html_url") or ""),
            created_at=parse_time(source.get("created_at")),
            invocation=invocation,
            default_branch=default_branch,
            bot_login=rc.bot_login,
        )
        try:
            expires = int(fields.get("expires", "0"))
        except ValueError:
            expires = 0
        out.append(Pending(request, fields.get("head", "-"), expires))
    return out


def complete_all(
    rc: RepoContext, number: int, default_branch: str, *, is_pull: bool
) -> list[dict[str, Any]]:
    """Re-check every pending command here; complete, refuse or expire each one.

    Returns one summary per pending command: its text, requester, and what happened
    (completed, waiting, refused, expired) with the reply's URL.
    """
    from bot.commands.registry import get

    found = find(rc, number, default_branch, is_pull=is_pull)
    if not found:
        return []
    head = str(rc.pull(number)["head"]["sha"]) if is_pull else "-"
    results = []
    for item in found:
        req = item.request
        summary: dict[str, Any] = {
            "command": req.invocation.text,
            "requester": req.requester,
            "url": req.comment_url,
        }
        reason = None
        if is_pull and item.head != head:
            reason = f"the pull request's head moved ({item.head[:7]} → {head[:7]})"
        elif item.expires and item.expires < time.time():
            reason = "it waited longer than the policy's time limit"
        if reason is not None:
            reply = replies.Reply("refused", "expired", {"why": reason})
            summary.update(state="expired", urls=replies.post(rc, req, reply))
            results.append(summary)
            continue
        module = get(req.invocation.name)
        assert module is not None
        try:
            args = module.parse(req.invocation.args)
            reply = module.handle(rc, req, args, completing=True)
        except replies.UsageError as exc:
            reply = replies.Reply("refused", "usage", {"why": exc.message, "fix": exc.fix})
        if reply is None:
            summary["state"] = "waiting"
        else:
            summary.update(
                state="completed" if reply.kind == "done" else "refused",
                urls=replies.post(rc, req, reply),
            )
        results.append(summary)
    return results
