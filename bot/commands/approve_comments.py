"""`/approve` comments read back as approval intents (the approval path of an issue).

Prow's way: nothing is stored; each check replays the issue's comments and
keeps each person's latest intent (`bot.approvals.rules.from_comments`).
"""

from __future__ import annotations

from typing import Any

from bot.approvals import rules
from bot.chatops.checks import is_bot
from bot.commands import grammar
from bot.commands.request import parse_time

NAME = "approve"


def approve_intents(comments: list[dict[str, Any]], bot_login: str) -> list[rules.ApproveComment]:
    """`/approve` and `/approve cancel` lines from people (never bots), as approval intents.

    An edited comment is not read (edits never re-run): whatever it says now, it is not
    what was written when it was created.
    """
    out = []
    for comment in comments:
        user = comment.get("user") or {}
        login = user.get("login") or ""
        if not login or is_bot(login, user.get("type"), bot_login):
            continue
        if comment.get("updated_at") != comment.get("created_at") or not comment.get("created_at"):
            continue
        created = parse_time(comment.get("created_at"))
        for inv in grammar.find(comment.get("body") or ""):
            if inv.name == NAME:
                cancel = bool(inv.args) and inv.args[0].lower() == "cancel"
                out.append(rules.ApproveComment(login, created, cancel=cancel))
    return out
