"""Reviews of a PR with a pending /promote: the bot says which count, which do not, and why.

One reply per pending command, posted at the first review that does not complete it
and edited in place at each later one (never a comment per review); the pending reply
itself is never edited (its marker is trusted only as the bot first wrote it).
"""

from __future__ import annotations

import re

from tests.e2e.conftest import MLBOT_YML, World
from tests.security.attacks import outside_code, replies_to
from tests.security.test_mentions import MENTION

STATUS = re.compile(r"<!-- mlbot:reply approvals-(?P<key>\d+\.\d+) part 1")


def statuses(world: World, pr: int, command_id: int) -> list[str]:
    """The bot's approval reports on the command `command_id`."""
    return [
        body
        for body in world.bot_comments(pr)
        if (m := STATUS.match(body)) and m["key"] == f"{command_id}.1"
    ]


def test_each_review_that_does_not_count_is_told_why_in_one_reply_edited_in_place(
    world: World,
) -> None:
    pr = world.open_pr()
    older = world.head(pr)
    head = world.push(pr, {"models/cancer/train.py": "print('better')\n"})
    world.ci(pr, head)
    cid = world.comment(pr, "/promote", user="bob")  # bob is a code owner, and asks
    world.settle()
    (pending,) = world.command_replies(pr)
    assert "Waiting for approval" in pending
    comments = len(world.bot_comments(pr))

    world.review(pr, user="erin")  # not a code owner
    world.settle()
    (status,) = statuses(world, pr, cid)
    assert status.splitlines()[1].startswith(
        "ℹ️ Approvals of `/promote` by `bob`: 0 of 1 code-owner approval for production"
    ), status
    assert (
        "`erin`'s approval does not count: `erin` is not a code owner of `registry/cancer/` "
        "in CODEOWNERS (code owners: alice, bob, dave)."
    ) in status
    assert len(world.bot_comments(pr)) == comments + 1

    world.review(pr, user="bob")  # the requester; self-approval is off for production
    world.review(pr, user="dave", commit_id=older)  # an owner, on an older head
    world.settle()
    (status,) = statuses(world, pr, cid)
    assert "`bob`'s approval does not count: `bob` is the requester" in status, status
    assert (
        f"`dave`'s approval does not count: `dave` approved an older head ({older[:7]}), "
        f"not the current one ({head[:7]})"
    ) in status
    assert "`erin`'s approval does not count" in status
    assert len(world.bot_comments(pr)) == comments + 1, "edited in place, not a new comment"
    assert world.command_replies(pr)[0] == pending  # the pending reply is never edited
    # Reviewers are named, never mentioned.
    assert not MENTION.search(outside_code(status)), status

    world.review(pr, user="alice")  # an owner, on the head: it completes
    world.settle()
    assert world.live()["production"] == "v1.2.0"
    assert "Promoted cancer v1.2.0 to production" in world.last_reply(pr)
    (status,) = statuses(world, pr, cid)
    assert status.splitlines()[1].startswith(
        "ℹ️ Approvals of `/promote` by `bob`: no longer waiting (completed)"
    ), status


def test_a_dismissed_approval_is_reported_as_dismissed(world: World) -> None:
    pr = world.open_pr()
    cid = world.comment(pr, "/promote", user="bob")
    world.settle()
    review = world.review(pr, user="bob")  # does not count: the requester
    world.settle()
    world.sim.dismiss_review(review, user="alice")
    world.settle()
    (status,) = statuses(world, pr, cid)
    assert "`bob`'s approval does not count: it was dismissed" in status, status
    assert "is the requester" not in status
    assert world.live()["production"] == "v1.1.0"


def test_an_owners_approval_that_completes_the_command_posts_no_report(world: World) -> None:
    pr = world.open_pr()
    cid = world.comment(pr, "/promote")
    world.settle()
    world.review(pr, user="alice")
    world.settle()
    assert world.live()["production"] == "v1.2.0"
    assert statuses(world, pr, cid) == []


def test_an_approve_that_does_not_count_on_an_issue_is_told_why(world: World) -> None:
    strict = MLBOT_YML.replace(
        "overrides:\n", "overrides:\n  rollback:\n    allow_self_approval: false\n"
    )
    world.sim.push(world.repo, "main", {".github/mlbot.yml": strict}, author="alice")
    issue = world.issue()
    cid = world.comment(issue, "/rollback cancer because latency", user="bob")
    world.settle()
    (pending,) = replies_to(world, issue, cid)
    assert "Waiting for approval" in pending, pending
    approve = world.comment(issue, "/approve", user="bob")  # an owner, but the requester
    world.settle()
    (reply,) = replies_to(world, issue, approve)
    assert "**waiting**" in reply, reply
    assert "`bob`'s approval does not count: `bob` is the requester" in reply, reply
    assert replies_to(world, issue, cid) == [pending]
    assert world.live()["production"] == "v1.1.0"


def test_a_code_owner_requesting_changes_ends_a_pending_promote_at_once(world: World) -> None:
    pr = world.open_pr()
    cid = world.comment(pr, "/promote", user="bob")  # bob may not approve his own
    world.settle()
    (pending,) = world.command_replies(pr)
    assert "Waiting for approval" in pending

    world.review(pr, user="alice", state="CHANGES_REQUESTED")
    world.settle()
    reply = world.last_reply(pr)
    assert "refused" in reply and "changes requested by code owner alice" in reply, reply
    assert world.command_replies(pr)[0] == pending  # the pending reply is never edited

    world.review(pr, user="dave")  # another owner's approval: the request has ended
    world.settle()
    assert world.live()["production"] == "v1.1.0"
    assert len(world.command_replies(pr)) == 2, world.command_replies(pr)
    assert statuses(world, pr, cid) == []
