"""Which approvals count: a pure function over reviews or `/approve` comments.

Prow's lesson: store nothing, rebuild from history. Each event replays the
reviews (or comments) and keeps each person's latest intent, so
redeliveries and restarts are harmless by construction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from bot.policy.evidence import Approvals


@dataclass(frozen=True)
class Review:
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str | None
    submitted_at: dt.datetime | None


@dataclass(frozen=True)
class ApproveComment:
    user: str
    created_at: dt.datetime
    cancel: bool = False


def _norm(login: str) -> str:
    return login.lower()


def from_reviews(
    reviews: Iterable[Review],
    *,
    owners: Iterable[str],
    head_sha: str,
    author: str,
    requester: str | None,
    allow_self_approval: bool,
    accept_stale: bool,
) -> Approvals:
    """Approvals of a pull request, per GitHub's semantics and the stage's policy.

    The latest review of each person decides (COMMENTED reviews do not
    change an earlier decision, as on GitHub); a dismissed review counts for
    nothing; an owner's latest CHANGES_REQUESTED blocks.
    """
    owner_set = {_norm(o) for o in owners}
    latest: dict[str, Review] = {}
    ordered = sorted(
        (r for r in reviews if r.state not in {"COMMENTED", "PENDING"}),
        key=lambda r: r.submitted_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
    )
    for review in ordered:
        latest[_norm(review.user)] = review
    approvers, discarded, blocked = [], [], []
    for login, review in latest.items():
        name = review.user
        if login not in owner_set:
            if review.state == "APPROVED":
                discarded.append(f"{name} is not a code owner")
            continue
        if review.state == "CHANGES_REQUESTED":
            blocked.append(name)
            continue
        if review.state != "APPROVED":
            if review.state == "DISMISSED":
                discarded.append(f"{name}'s approval was dismissed")
            continue
        if login == _norm(author):
            discarded.append(f"{name} authored the pull request")
        elif requester and login == _norm(requester) and not allow_self_approval:
            discarded.append(f"{name} requested the promotion")
        elif not accept_stale and review.commit_id != head_sha:
            discarded.append(f"{name} approved an older commit ({(review.commit_id or '?')[:7]})")
        else:
            approvers.append(name)
    return Approvals(
        approvers=tuple(sorted(approvers, key=str.lower)),
        discarded=tuple(discarded),
        blocked_by=tuple(sorted(blocked, key=str.lower)),
        owners=tuple(sorted(owner_set)),
    )


def from_comments(
    comments: Iterable[ApproveComment],
    *,
    owners: Iterable[str],
    since: dt.datetime,
    requester: str | None,
    allow_self_approval: bool,
) -> Approvals:
    """Approvals on an issue: `/approve` comments by owners after the request.

    `/approve cancel` withdraws that person's earlier approval.
    """
    owner_set = {_norm(o) for o in owners}
    intent: dict[str, ApproveComment] = {}
    for comment in sorted(comments, key=lambda c: c.created_at):
        if comment.created_at >= since:
            intent[_norm(comment.user)] = comment
    approvers, discarded = [], []
    for login, comment in intent.items():
        if comment.cancel:
            continue
        if login not in owner_set:
            discarded.append(f"{comment.user} is not a code owner")
        elif requester and login == _norm(requester) and not allow_self_approval:
            discarded.append(f"{comment.user} requested it")
        else:
            approvers.append(comment.user)
    return Approvals(
        approvers=tuple(sorted(approvers, key=str.lower)),
        discarded=tuple(discarded),
        owners=tuple(sorted(owner_set)),
    )
