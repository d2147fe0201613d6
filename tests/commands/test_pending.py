"""Pending commands are rebuilt from the conversation, and only from what nobody edited."""

from __future__ import annotations

from bot.chatops.context import RepoContext
from bot.commands import pending
from bot.commands.request import digest

BOT = "mlbot[bot]"


def comment(cid: int, user: str, body: str, *, minute: int, edited: bool = False) -> dict:
    created = f"2026-03-01T10:{minute:02d}:00Z"
    return {
        "id": cid,
        "user": {"login": user, "type": "Bot" if user.endswith("[bot]") else "User"},
        "body": body,
        "created_at": created,
        "updated_at": f"2026-03-01T11:{minute:02d}:00Z" if edited else created,
        "html_url": f"https://github.com/acme/models/issues/7#issuecomment-{cid}",
    }


def waiting(
    key: str, minute: int, *, edited: bool = False, head: str = "h" * 40, line: str = "/promote"
) -> dict:
    marker = f"head={head} expires=4102444800 digest={digest(line)}"
    body = f"<!-- mlbot:pending {key} part 1 {marker} -->\n⏳ Waiting"
    return comment(9000 + minute, BOT, body, minute=minute, edited=edited)


def context(comments: list[dict]) -> RepoContext:
    rc = RepoContext(gh=None, full_name="acme/models", default_branch="main", bot_login=BOT)
    rc.once("comments:7", lambda: comments)  # what GitHub listed, oldest first
    return rc


def test_a_command_with_an_unedited_pending_reply_is_pending() -> None:
    rc = context(
        [
            comment(100, "carol", "Please:\n/promote cancer to production", minute=1),
            waiting("100.2", 2, line="/promote cancer to production"),
        ]
    )
    (found,) = pending.find(rc, 7, "main", is_pull=True)
    assert found.changed is None
    assert found.request.requester == "carol"
    assert found.request.invocation.args == ("cancer", "to", "production")
    assert found.head == "h" * 40 and found.expires == 4102444800


def test_edits_end_a_wait_with_a_reason_whatever_the_timestamps_say() -> None:
    rc = context(
        [
            comment(100, "carol", "/promote", minute=1, edited=True),  # edited, timestamps say
            waiting("100.1", 2),
            comment(101, "carol", "/promote cancer v1.3.0", minute=3),  # same second, new text
            waiting("101.1", 4),
            comment(102, "carol", "/status", minute=5),  # the line is not a command that waits
            waiting("102.1", 6),
        ]
    )
    found = {p.request.key: p.changed for p in pending.find(rc, 7, "main", is_pull=False)}
    assert set(found) == {"100.1", "101.1", "102.1"}
    assert all(found.values()), found


def test_replies_bots_and_closed_commands_never_start_a_wait() -> None:
    rc = context(
        [
            comment(101, "carol", "/promote", minute=3),
            waiting("101.1", 4, edited=True),  # edited pending reply
            comment(102, "ci[bot]", "/promote", minute=5),  # a bot asked
            waiting("102.1", 6),
            comment(104, "carol", "/promote", minute=9),
            waiting("104.1", 10),
            comment(9911, BOT, "<!-- mlbot:done 104.1 part 1 -->\n✅ done", minute=11),
            comment(105, "erin", "/rollback cancer", minute=12),
            comment(9913, "mallory", "<!-- mlbot:pending 105.1 part 1 head=x -->", minute=13),
        ]
    )
    assert pending.find(rc, 7, "main", is_pull=False) == []


def test_a_marker_written_by_someone_else_is_not_the_bots() -> None:
    rc = context(
        [
            comment(105, "erin", "/rollback cancer", minute=1),
            comment(106, "erin", "<!-- mlbot:pending 105.1 part 1 head=- -->", minute=2),
        ]
    )
    assert pending.find(rc, 7, "main", is_pull=False) == []
