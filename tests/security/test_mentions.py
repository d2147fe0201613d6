"""Anyone can make the bot echo words; the echo must never mention or link anybody."""

from __future__ import annotations

import re

from tests.security.attacks import World, outside_code

MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9][\w-]*(?:/[\w-]+)?")
LINK = re.compile(r"(?<![\w`&])#\d+\b")


def assert_mentions_and_links_nobody(reply: str, *, author: str, issue: int) -> None:
    """Outside code the reply mentions no one but `author` and links no issue but `issue`."""
    visible = outside_code(reply).replace(f"@{author}", "")
    assert not MENTION.search(visible), reply
    assert not LINK.search(visible.replace(f"#{issue}", "")), reply


ECHOED = [
    "/promote @acme/ml-leads",
    "/rollback cancer to @alice",
    "/status @bob",
    "/help @dave",
    "/approve @alice",
    "/retrain @acme/ml-leads",
    "/promote cancer v1.2.0 to @alice",
    "/promot @bob",
    "/status #1",
]


def test_usage_replies_do_not_mention_or_link_what_the_user_wrote(world: World) -> None:
    issue = world.issue()
    for body in ECHOED:
        world.comment(issue, body, user="mallory")
    world.settle()
    replies = world.command_replies(issue)
    assert len(replies) == len(ECHOED)
    for reply in replies:
        assert_mentions_and_links_nobody(reply, author="mallory", issue=issue)


def test_a_rollback_reason_does_not_mention_anyone(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "/rollback cancer because @acme/ml-leads said #1", user="bob")
    world.settle()
    reply = world.last_reply(issue)
    assert "Rolled back" in reply
    assert_mentions_and_links_nobody(reply, author="bob", issue=issue)


def test_backticks_in_a_word_cannot_close_the_code_span(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "/status ``` @alice ```", user="mallory")
    world.settle()
    reply = world.last_reply(issue)
    visible = outside_code(reply).replace("@mallory", "")
    assert "@alice" not in visible, reply
