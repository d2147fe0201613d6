"""The named checks and the approval evidence gathered from GitHub's answers."""

from __future__ import annotations

import datetime as dt

from bot.chatops import checks
from bot.commands.approve_comments import approve_intents
from bot.policy.schema import StagePolicy


def pull(**overrides: object) -> dict:
    data = {
        "number": 5,
        "state": "open",
        "merged": False,
        "head": {"sha": "h" * 40, "repo": {"full_name": "acme/models"}},
        "base": {"ref": "main"},
        "user": {"login": "carol"},
    }
    data.update(overrides)
    return data


def test_permission_needs_write_or_higher() -> None:
    assert checks.permission("bob", "admin").status == "pass"
    assert checks.permission("carol", "write").status == "pass"
    refused = checks.permission("mallory", "triage")
    assert refused.status == "fail" and "grant mallory the write role" in (refused.fix or "")


def test_a_pull_request_must_be_open_same_repo_and_against_the_default_branch() -> None:
    assert [c.status for c in checks.pull_request(pull(), "acme/models", "main")] == ["pass"]
    found = checks.pull_request(
        pull(
            state="closed",
            merged=True,
            head={"sha": "h", "repo": {"full_name": "mallory/models"}},
            base={"ref": "release"},
        ),
        "acme/models",
        "main",
    )
    reasons = " ".join(c.reason for c in found)
    assert [c.status for c in found] == ["fail", "fail", "fail"]
    assert "merged" in reasons and "fork (mallory/models)" in reasons and "release" in reasons
    deleted_fork = checks.pull_request(pull(head={"sha": "h", "repo": None}), "acme/models", "main")
    assert "a deleted fork" in deleted_fork[0].reason


def test_no_codeowners_or_no_owner_refuses() -> None:
    assert checks.codeowners([], None, "registry/x/stages.yaml", "main").status == "fail"
    assert checks.codeowners([], ".github/CODEOWNERS", "registry/x", "main").status == "fail"
    assert checks.codeowners(["alice"], ".github/CODEOWNERS", "registry/x", "main").passed


def review(user: str, state: str, commit: str, minute: int) -> dict:
    return {
        "user": {"login": user},
        "state": state,
        "commit_id": commit,
        "submitted_at": f"2026-03-01T10:{minute:02d}:00Z",
    }


def test_pr_approvals_follow_the_latest_review_of_each_owner_on_the_head() -> None:
    head = "h" * 40
    got = checks.pr_approvals(
        [
            review("alice", "APPROVED", "old", 1),
            review("bob", "APPROVED", head, 2),
            review("bob", "COMMENTED", head, 3),  # does not undo bob's approval
            review("erin", "APPROVED", head, 4),  # not an owner
            review("carol", "APPROVED", head, 5),  # the author
            review("dave", "APPROVED", head, 6),
            review("dave", "CHANGES_REQUESTED", head, 7),  # blocks
        ],
        owners=["alice", "bob", "carol", "dave"],
        head_sha=head,
        author="carol",
        requester="carol",
        rule=StagePolicy(approvals=1),
    )
    assert got.approvers == ("bob",)
    assert got.blocked_by == ("dave",)
    assert any("alice approved an older commit" in d for d in got.discarded)
    assert any("erin is not a code owner" in d for d in got.discarded)
    assert any("carol authored" in d for d in got.discarded)


def comment(user: str, body: str, minute: int, *, edited: bool = False, bot: bool = False) -> dict:
    created = f"2026-03-01T10:{minute:02d}:00Z"
    return {
        "user": {"login": user, "type": "Bot" if bot else "User"},
        "body": body,
        "created_at": created,
        "updated_at": f"2026-03-01T11:{minute:02d}:00Z" if edited else created,
    }


def test_issue_approvals_come_from_owners_approve_comments_after_the_request() -> None:
    since = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.timezone.utc)
    comments = [
        comment("alice", "/approve", 1),  # before the request
        comment("bob", "/approve", 6, edited=True),  # edited: not read
        comment("mlbot[bot]", "/approve", 7, bot=True),  # a bot
        comment("dave", "> /approve\nquoted only", 8),  # in a quote
        comment("erin", "/approve", 9),  # not an owner
    ]
    got = checks.issue_approvals(
        approve_intents(comments, "mlbot[bot]"),
        owners=["alice", "bob", "dave"],
        since=since,
        requester="carol",
        allow_self_approval=True,
    )
    assert got.approvers == ()
    assert any("erin is not a code owner" in d for d in got.discarded)

    later = [*comments, comment("dave", "/approve", 10), comment("dave", "/approve cancel", 11)]
    withdrawn = checks.issue_approvals(
        approve_intents(later, "mlbot[bot]"),
        owners=["alice", "bob", "dave"],
        since=since,
        requester="carol",
        allow_self_approval=True,
    )
    assert withdrawn.approvers == ()
    counted = checks.issue_approvals(
        approve_intents(later[:-1], "mlbot[bot]"),
        owners=["alice", "bob", "dave"],
        since=since,
        requester="carol",
        allow_self_approval=True,
    )
    assert counted.approvers == ("dave",)


def test_an_owner_asking_for_a_rollback_approves_it_when_the_policy_allows() -> None:
    since = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.timezone.utc)
    own = checks.issue_approvals(
        [],
        owners=["bob"],
        since=since,
        requester="bob",
        allow_self_approval=True,
        requester_approves=True,
    )
    assert own.approvers == ("bob",)
    strict = checks.issue_approvals(
        [],
        owners=["bob"],
        since=since,
        requester="bob",
        allow_self_approval=False,
        requester_approves=True,
    )
    assert strict.approvers == ()
