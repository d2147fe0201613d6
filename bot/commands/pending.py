"""Pending promotions and rollbacks, rebuilt from the issue's or PR's history.

Nothing is stored. A command is pending when the bot answered it with a
"pending" reply (its own comment, never edited) and no later reply of the
bot closed it. The pending marker records what was judged: the PR head, the
expiry, and the digest of the exact command line. Completing it re-reads the
person's comment and runs every gate again (a pending reply only says "look
again", never "this is allowed"), and only for the same text: if the line
the digest covers is not byte for byte what was judged (an edit, whatever
the timestamps say), the command ends with a reply saying so. A pending
command also ends when the PR's head moves or the policy's time limit
passes; each ending is reported once.

Each completion runs serialised on the command's identity and re-reads the
bot's replies inside the lock, so concurrent approvals complete it once.

On a pull request, a review that leaves a command waiting gets it a report:
who approved, and which approvals do not count and why (not a code owner, the
requester, an older head, dismissed). One comment per pending command, posted
at the first such review and edited in place at each later one, and once the
command ends; the pending reply itself stays as written (its marker is
trusted only unedited).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops.checks import is_bot
from bot.commands import grammar, once, promote, replies, rollback, run
from bot.commands.request import Request, parse_time

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext

log = logging.getLogger(__name__)
GATED = {c.name: c for c in (promote.COMMAND, rollback.COMMAND)}


@dataclass(frozen=True)
class Pending:
    request: Request
    head: str
    expires: int
    # Why the command as it reads now is not the one judged (edited), or None.
    changed: str | None = None


def find(
    rc: RepoContext, number: int, default_branch: str, *, is_pull: bool, delivery_id: str = ""
) -> list[Pending]:
    comments = rc.comments(number)
    me = rc.bot_login.lower()
    waiting: dict[str, tuple[dict[str, str], dict[str, Any]]] = {}
    closed: set[str] = set()
    for comment in comments:
        login = ((comment.get("user") or {}).get("login") or "").lower()
        if login != me:
            continue
        found = replies.parse_marker(comment.get("body"))
        if found is None or found["part"] != "1":
            continue
        if found["kind"] != "pending":
            closed.add(found["key"])
        elif comment.get("updated_at") != comment.get("created_at"):
            closed.add(found["key"])  # an edited pending reply is not trusted
        else:
            waiting.setdefault(found["key"], (found, comment))
    people = {int(c["id"]): c for c in comments}
    out = []
    for key, (fields, _reply) in waiting.items():
        if key in closed or not key[0].isdigit():
            continue
        comment_id, _, line = key.partition(".")
        source = people.get(int(comment_id))
        if source is None:
            continue
        user = source.get("user") or {}
        if is_bot(user.get("login") or "", user.get("type"), rc.bot_login):
            continue
        body = source.get("body") or ""
        invocation = next((i for i in grammar.find(body) if i.line == int(line)), None)
        changed = None
        if invocation is None or invocation.name not in GATED:
            changed = f"line {line} of the comment is no longer the command that was judged"
            invocation = grammar.Invocation("?", (), int(line), "(removed)", "")
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
            delivery_id=delivery_id,
            judged=dict(fields),
        )
        if changed is None and fields.get("digest") != request.digest:
            changed = "the comment was edited after the bot judged it"
        elif changed is None and source.get("updated_at") != source.get("created_at"):
            changed = "the comment was edited after it was posted"
        try:
            expires = int(fields.get("expires", "0"))
        except ValueError:
            expires = 0
        out.append(Pending(request, fields.get("head", "-"), expires, changed))
    return out


def complete_all(
    rc: RepoContext,
    number: int,
    default_branch: str,
    *,
    is_pull: bool,
    delivery_id: str = "",
    last_attempt: bool = True,
) -> list[dict[str, Any]]:
    """Re-check every pending command here; complete, refuse or expire each one.

    Returns one summary per pending command: its text, requester, and what happened
    (completed, waiting, refused, expired, edited) with the reply's URL; one still
    waiting has its approval report too (`approvals`: who counted, who did not and why).
    """
    found = find(rc, number, default_branch, is_pull=is_pull, delivery_id=delivery_id)
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
        with once.serialised(rc, req.identity):
            outcome = once.reply_outcome(rc, req)
            if outcome is None or outcome.state != "pending":
                continue  # another event ended it meanwhile
            # From the listing just read: whether this command has a report to keep true.
            reported = is_pull and _has_report(rc, req)
            reply, state = _complete(rc, req, item, head, is_pull, last_attempt)
            if reply is not None and reply.kind != "pending":
                summary["urls"] = replies.post(rc, req, reply)
            if reply is not None and reply.kind == "pending":
                said = report(reply, head)
                summary["approvals"] = said.context  # what an /approve reply says of it
                if is_pull:  # on an issue, the /approve comment's own reply says it
                    replies.post(rc, req, said, key=replies.report_key(req.key))
            elif reported and state != "waiting":
                ended = replies.Reply("info", "approvals", {"state": state})
                replies.post(rc, req, ended, key=replies.report_key(req.key), edit_only=True)
        summary["state"] = state
        results.append(summary)
    return results


def _has_report(rc: RepoContext, req: Request) -> bool:
    me, key = rc.bot_login.lower(), replies.report_key(req.key)
    for comment in rc.comments(req.number):
        if ((comment.get("user") or {}).get("login") or "").lower() != me:
            continue
        fields = replies.parse_marker(comment.get("body"))
        if fields and fields["key"] == key:
            return True
    return False


# How `bot.approvals.rules` says an approval does not count, read back as (who, why).
_DISCARDED = (
    (re.compile(r"(?P<who>[^\s']+) is not a code owner"), "not an owner"),
    (re.compile(r"(?P<who>[^\s']+)'s approval was dismissed"), "dismissed"),
    (re.compile(r"(?P<who>[^\s']+) authored the pull request"), "author"),
    (re.compile(r"(?P<who>[^\s']+) requested (?:it|the \w+)"), "requester"),
    (re.compile(r"(?P<who>[^\s']+) approved an older commit \((?P<sha>\w*)\??\)"), "older head"),
)


def report(pending_reply: replies.Reply, head: str) -> replies.Reply:
    """The approval report of a command still waiting, from its pending reply as it would
    read now: who approved, and each approval that does not count, with why."""
    ctx = pending_reply.context
    discarded = []
    for text in ctx.get("discarded", ()):
        for pattern, why in _DISCARDED:
            if m := pattern.fullmatch(text):
                discarded.append({"who": m["who"], "why": why, "sha": m.groupdict().get("sha")})
                break
        else:  # a reason this list does not know yet: said as the rules put it
            discarded.append({"who": None, "why": text, "sha": None})
    tally = next((c.reason for c in ctx.get("checks", ()) if c.name == "approvals"), "")
    return replies.Reply(
        "info",
        "approvals",
        {
            "state": "waiting",
            "tally": tally.split(" Not counted:")[0],
            "approvers": list(ctx.get("approvers", ())),
            "discarded": discarded,
            "owners": list(ctx.get("owners", ())),
            "path": f"registry/{ctx.get('model', '<model>')}/",
            "head": head[:7],
        },
    )


def _complete(
    rc: RepoContext, req: Request, item: Pending, head: str, is_pull: bool, last_attempt: bool
) -> tuple[replies.Reply | None, str]:
    if item.changed is not None:
        return replies.Reply("refused", "edited", {"why": item.changed}), "edited"
    reason = None
    if is_pull and item.head != head:
        reason = f"the pull request's head moved ({item.head[:7]} → {head[:7]})"
    elif item.expires and item.expires < time.time():
        reason = "it waited longer than the policy's time limit"
    if reason is not None:
        return replies.Reply("refused", "expired", {"why": reason}), "expired"
    reply = run.execute(
        rc, req, GATED[req.invocation.name], completing=True, last_attempt=last_attempt
    )
    if reply is None or reply.kind == "pending":
        return reply, "waiting"  # None: another event completed it first
    return reply, "completed" if reply.kind == "done" else "refused"
