"""The approval report reads back every reason `bot.approvals.rules` gives, by person."""

from __future__ import annotations

import datetime as dt

from bot.approvals import rules
from bot.commands import pending
from bot.commands.replies import Reply
from bot.policy.verdict import Check

HEAD = "c" * 40
AT = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def review(user: str, state: str = "APPROVED", commit: str = HEAD, minute: int = 0):
    return rules.Review(user, state, commit, AT + dt.timedelta(minutes=minute))


def test_every_reason_an_approval_does_not_count_is_told_by_person() -> None:
    approvals = rules.from_reviews(
        [
            review("erin"),  # not a code owner
            review("carol"),  # the author
            review("bob"),  # the requester
            review("dave", commit="o" * 40),  # an older head
            review("Alice"),
            review("alice", "DISMISSED", minute=1),  # dismissed, in any case
        ],
        owners=["alice", "bob", "carol", "dave"],
        head_sha=HEAD,
        author="carol",
        requester="bob",
        allow_self_approval=False,
        accept_stale=False,
    )
    pending_reply = Reply(
        "pending",
        "pending",
        {
            "model": "cancer",
            "approvers": approvals.approvers,
            "discarded": approvals.discarded,
            "owners": ["alice", "bob", "carol", "dave"],
            "checks": [Check("approvals", "fail", "0 of 1 code-owner approval. Not counted: …")],
        },
    )
    got = pending.report(pending_reply, HEAD).context
    assert {(d["who"], d["why"]) for d in got["discarded"]} == {
        ("erin", "not an owner"),
        ("carol", "author"),
        ("bob", "requester"),
        ("dave", "older head"),
        ("alice", "dismissed"),
    }
    assert [d["sha"] for d in got["discarded"] if d["why"] == "older head"] == ["o" * 7]
    assert got["tally"] == "0 of 1 code-owner approval."
    assert got["path"] == "registry/cancer/"


def test_a_reason_the_report_does_not_know_is_said_as_the_rules_put_it() -> None:
    reply = Reply("pending", "pending", {"discarded": ("someone did something new",)})
    (said,) = pending.report(reply, HEAD).context["discarded"]
    assert said == {"who": None, "why": "someone did something new", "sha": None}


def test_an_approve_reply_says_why_for_waiting_commands_only() -> None:
    from bot.commands.replies import render

    waiting = {
        "command": "/rollback cancer because latency",
        "requester": "bob",
        "state": "waiting",
        "approvals": {
            "approvers": [],
            "discarded": [{"who": "bob", "why": "requester", "sha": None}],
            "owners": ["alice", "bob"],
            "path": "registry/cancer/",
            "head": "-",
        },
    }
    done = {"command": "/promote", "requester": "carol", "state": "completed"}
    body = render(
        "approve",
        icon="ℹ️",
        command="/approve",
        approver="bob",
        cancel=False,
        counts=True,
        owners=["alice", "bob"],
        results=[waiting, done],
    )
    assert (
        "\n  - `bob`'s approval does not count: `bob` is the requester, and the policy does "
        "not let the requester approve.\n- `/promote` by @carol: **completed**"
    ) in body, body
