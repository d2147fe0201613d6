"""Which approvals count, on pull requests (reviews) and on issues (/approve)."""

from __future__ import annotations

import datetime as dt

from bot.approvals.codeowners import find, owners_of
from bot.approvals.rules import ApproveComment, Review, from_comments, from_reviews

T = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
HEAD = "h" * 40


def at(minutes: int) -> dt.datetime:
    return T + dt.timedelta(minutes=minutes)


def pr(reviews, **kw):
    args = dict(
        owners=["bob", "carol", "dave"],
        head_sha=HEAD,
        author="alice",
        requester="erin",
        allow_self_approval=False,
        accept_stale=False,
    )
    args.update(kw)
    return from_reviews(reviews, **args)


def test_latest_owner_approval_on_the_head_counts_once():
    got = pr([Review("bob", "APPROVED", HEAD, at(1)), Review("Bob", "APPROVED", HEAD, at(2))])
    assert got.approvers == ("Bob",)


def test_non_owner_author_and_stale_approvals_do_not_count():
    got = pr(
        [
            Review("mallory", "APPROVED", HEAD, at(1)),
            Review("alice", "APPROVED", HEAD, at(1)),
            Review("carol", "APPROVED", "old" * 13 + "o", at(1)),
        ],
        owners=["alice", "bob", "carol"],
    )
    assert got.approvers == ()
    assert got.discarded == (
        "mallory is not a code owner",
        "alice authored the pull request",
        "carol approved an older commit (oldoldo)",
    )


def test_stale_approvals_count_when_the_policy_accepts_them():
    got = pr([Review("carol", "APPROVED", "0" * 40, at(1))], accept_stale=True)
    assert got.approvers == ("carol",)


def test_a_later_changes_requested_blocks_and_a_later_approval_clears_it():
    blocked = pr(
        [
            Review("bob", "APPROVED", HEAD, at(1)),
            Review("carol", "APPROVED", HEAD, at(1)),
            Review("bob", "CHANGES_REQUESTED", HEAD, at(2)),
        ]
    )
    assert (blocked.approvers, blocked.blocked_by) == (("carol",), ("bob",))
    cleared = pr(
        [
            Review("bob", "CHANGES_REQUESTED", HEAD, at(1)),
            Review("bob", "COMMENTED", HEAD, at(2)),
            Review("bob", "APPROVED", HEAD, at(3)),
        ]
    )
    assert (cleared.approvers, cleared.blocked_by) == (("bob",), ())


def test_comments_do_not_undo_an_approval_but_dismissal_does():
    kept = pr([Review("bob", "APPROVED", HEAD, at(1)), Review("bob", "COMMENTED", HEAD, at(2))])
    assert kept.approvers == ("bob",)
    gone = pr([Review("bob", "DISMISSED", HEAD, at(1))])
    assert gone.approvers == () and gone.discarded == ("bob's approval was dismissed",)


def test_requester_counts_only_when_self_approval_is_allowed():
    reviews = [Review("erin", "APPROVED", HEAD, at(1))]
    assert pr(reviews, owners=["erin"]).approvers == ()
    assert pr(reviews, owners=["erin"], allow_self_approval=True).approvers == ("erin",)


def test_issue_approvals_after_the_request_with_cancel():
    comments = [
        ApproveComment("bob", at(-5)),  # before the request: ignored
        ApproveComment("carol", at(1)),
        ApproveComment("dave", at(2)),
        ApproveComment("dave", at(3), cancel=True),
        ApproveComment("zed", at(4)),
    ]
    got = from_comments(
        comments,
        owners=["bob", "carol", "dave"],
        since=T,
        requester="erin",
        allow_self_approval=True,
    )
    assert got.approvers == ("carol",)
    assert got.discarded == ("zed is not a code owner",)


def test_codeowners_lookup_order_and_last_match_wins():
    files = {"docs/CODEOWNERS": "* @docs", "CODEOWNERS": "* @root-owner"}
    assert find(files.get) == ("CODEOWNERS", "* @root-owner")
    text = "* @org/everyone\n/registry/churn/ @alice @org/ml\n/registry/churn/x.yaml\n"
    assert [str(o) for o in owners_of(text, "registry/churn/stages.yaml")] == ["@alice", "@org/ml"]
    assert owners_of(text, "registry/churn/x.yaml") == []  # no owner: the command is refused
    assert [o.kind for o in owners_of(text, "registry/churn/stages.yaml")] == ["user", "team"]
