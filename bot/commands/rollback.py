"""`/rollback [model] [to version] [because reason...]`: put the previous version back.

Usually on an incident issue. The stage is the policy's baseline stage
(production). Its approval rule is its own policy (default: one code owner,
who may be the requester), so an owner's `/rollback` runs at once and
anyone else's waits for an owner's `/approve`. Metric and scan gates are not
re-run: the previous version is the known quantity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chatops import checks, pending
from bot.chatops.replies import Reply, UsageError
from bot.commands.promote import semver_ok
from bot.registry.names import MODEL_NAME

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext, Request

NAME = "rollback"
USAGE = "/rollback [model] [to version] [because reason...]"
SUMMARY = "Point production back at the previous (or a named) version."
WHO = (
    "People with write access ask (or only code owners, if the rollback policy says so); "
    "one code owner approves, and that may be the requester."
)
EXAMPLES = (
    ("/rollback because error rate doubled", "the one model, to what ran before"),
    ("/rollback cancer to v1.0.0 because bad calibration", "to a named version"),
)
_VERSION = re.compile(r"^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
MAX_REASON = 300


@dataclass(frozen=True)
class Args:
    model: str | None = None
    to: str | None = None
    reason: str = ""


def parse(words: tuple[str, ...]) -> Args:
    from bot.commands.grammar import take_reason

    before, reason = take_reason(words)
    model = to = None
    rest = list(before)
    while rest:
        word = rest.pop(0)
        if word.lower() == "to":
            if not rest or not _VERSION.match(rest[0]):
                raise UsageError("`to` must be followed by a version like v1.2.3.", USAGE)
            to = rest.pop(0)
            semver_ok(to)
        elif MODEL_NAME.match(word) and model is None and to is None:
            model = word
        else:
            raise UsageError(
                f"unexpected word {word!r}.", f"Usage: `{USAGE}` (a reason goes after `because`)."
            )
    return Args(model, to, reason[:MAX_REASON])


def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply | None:
    from bot.errors import Conflict, MlbotError
    from bot.policy import gates
    from bot.policy.evidence import GateEvidence
    from bot.registry import audit, plan, schema
    from bot.registry.service import GateRefused

    pre = checks.preamble(rc, req, args.model, USAGE, completing=completing)
    if pre.replay is not None:
        commit, tags = pre.replay
        return Reply(
            "done", "again", {"model": pre.model, "action": NAME, "commit": commit, "tags": tags}
        )
    found, _pull, head_sha, model, policy = pre.found, pre.pull, pre.head_sha, pre.model, pre.policy
    stage = policy.baseline_stage
    state = rc.state(model)
    if args.to is not None:
        checks.known_version(state, args.to)
    try:
        live, target = plan.rollback_target(state, stage, args.to)
    except MlbotError as exc:
        if completing:
            return Reply(
                "refused", "conflict", {"model": model, "action": "rollback", "why": str(exc)}
            )
        raise UsageError(str(exc), f"Usage: `{USAGE}`.") from None
    path = schema.stages_path(model)
    owners, where = rc.owners_of(path)
    found.append(checks.codeowners(owners, where, path, rc.default_branch))
    is_owner = req.requester.lower() in {o.lower() for o in owners}
    if policy.rollback.requesters == "owners" and not is_owner:
        found.append(checks.owner_requester(req.requester, owners))
    approvals = checks.issue_approvals(
        rc.comments(req.number),
        owners=owners,
        since=req.created_at,
        requester=req.requester,
        allow_self_approval=policy.rollback.allow_self_approval,
        bot_login=req.bot_login,
        requester_approves=is_owner and policy.rollback.allow_self_approval,
    )
    verdict = gates.evaluate_rollback(
        policy, GateEvidence(stage=stage, version=target, approvals=approvals)
    )
    every = [*found, *verdict.checks]
    failed = [c for c in every if c.status == "fail"]
    target_info = {"model": model, "version": target, "stage": stage, "live_before": live}
    if failed:
        if all(c.name == "approvals" for c in failed):
            if completing:
                return None
            return Reply(
                "pending",
                "pending",
                {
                    **target_info,
                    "checks": every,
                    "owners": owners,
                    "approvers": approvals.approvers,
                    "discarded": approvals.discarded,
                    "is_pull": False,
                    "expiry_hours": policy.for_stage(stage).pending_expiry_hours,
                },
                marker_extra=pending.marker_extra(
                    head_sha, policy.for_stage(stage).pending_expiry_hours
                ),
            )
        return Reply("refused", "refused", {**target_info, "action": "rollback", "checks": every})
    info = audit.Audit(
        requested_by=req.requester,
        approved_by=approvals.approvers,
        evidence=(f"approvals: {verdict.checks[0].reason}",),
        refs=(f"#{req.number}",),
        reason=args.reason or None,
        extra={"Command": req.comment_url} if req.comment_url else {},
    )
    try:
        outcome = rc.registry().rollback(
            model, stage, audit_info=info, to=args.to, approvals=approvals
        )
    except GateRefused as exc:
        return Reply(
            "refused",
            "refused",
            {**target_info, "action": "rollback", "checks": [*found, *exc.verdict.checks]},
        )
    except (Conflict, MlbotError) as exc:
        return Reply("refused", "conflict", {**target_info, "action": "rollback", "why": str(exc)})
    rc.wrote()
    path_bytes = outcome.change.files[path]
    after = schema.parse_file(path, path_bytes, schema.StagesFile)
    return Reply(
        "done",
        "done",
        {
            **target_info,
            "version": outcome.change.version,
            "action": "rolled back",
            "previous": outcome.change.previous,
            "commit": outcome.commit,
            "tags": outcome.tags,
            "approvers": approvals.approvers,
            "evidence": [f"reason: {args.reason}"] if args.reason else [],
            "checks": list(outcome.verdict.checks) if outcome.verdict else [],
            "attempts": outcome.attempts,
            "notes": list(outcome.notes),
            "live": after.live(),
        },
    )
