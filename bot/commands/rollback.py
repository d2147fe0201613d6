"""`/rollback [model] [to version] [because reason...]`: put back what ran before.

Usually on an incident issue. The stage is the policy's baseline stage
(production). Without `to`, the version before the live one in that stage's
history; with `to`, a version that was live in that stage before and is not
deprecated. Anything else is a promotion and is refused with the `/promote`
that would run every promotion gate. The rollback names the version it
removes (the one live when it was asked): if that is no longer live when it
is carried out (someone rolled back or promoted first), it changes nothing
and says who did what.

Its approval rule is its own policy (default: one code owner, who may be the
requester). Metric and scan gates are not re-run: the target ran in that
stage before, which is what makes it the known quantity.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops import checks
from bot.commands import gated, once
from bot.commands.approve_comments import approve_intents
from bot.commands.grammar import take_reason
from bot.commands.interface import Command
from bot.commands.promote import semver_ok
from bot.commands.replies import Reply
from bot.errors import MlbotError, UsageError
from bot.policy import gates
from bot.policy.evidence import GateEvidence
from bot.registry import audit, plan, schema
from bot.registry.names import MODEL_NAME
from bot.registry.service import Superseded
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request

NAME = "rollback"
USAGE = "/rollback [model] [to version] [because reason...]"
_VERSION = re.compile(r"^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
MAX_REASON = 300


@dataclass(frozen=True)
class Args:
    model: str | None = None
    to: str | None = None
    reason: str = ""


def parse(words: tuple[str, ...]) -> Args:
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
                f"unexpected word {code(word)}.",
                f"Usage: `{USAGE}` (a reason goes after `because`).",
            )
    return Args(model, to, reason[:MAX_REASON])


def first_reads(rc: RepoContext, req: Request) -> list[Callable[[], object]]:
    """What every `/rollback` reads first: beside the "already answered?" read (`once`)."""
    return [lambda: rc.permission(req.requester), lambda: rc.head]


once.FIRST_READS[NAME] = first_reads


def prefetch(rc: RepoContext, args: Args) -> None:
    """Read the default branch's facts side by side before judging anything: the model's
    state (its registry log and stages.yaml together), then the record of the version it
    would go back to, beside its CODEOWNERS and their teams. A rollback is asked for while
    production is broken; one after another these reads would add most of a second.
    Reads that fail here fail again, with their reply, where they are used."""

    def default_branch() -> None:
        config = rc.config
        named = [args.model] if args.model in config.models else sorted(config.models)
        if len(named) == 1:  # otherwise the preamble refuses: no model to read for
            model = named[0]
            rc.gather(
                lambda: target_record(model),
                lambda: rc.owners_of(schema.stages_path(model)),
            )

    def target_record(model: str) -> None:
        state = gated.read_state(rc, model)
        _live, target = plan.rollback_target(state, rc.policy(model).baseline_stage, args.to)
        plan.require_record(state, target)

    with contextlib.suppress(Exception):
        default_branch()


def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply | None:
    prefetch(rc, args)
    pre = gated.preamble(rc, req, args.model, USAGE)
    if again := gated.carried_out(rc, req, pre.model, NAME):
        return again
    model, policy = pre.model, pre.policy
    stage = policy.baseline_stage
    state = rc.state(model)
    if args.to is not None:
        checks.known_version(state, args.to)
    entry = (state.stages.stages if state.stages else {}).get(stage)
    target_info: dict[str, Any] = {"model": model, "stage": stage, "reason": args.reason or None}
    # What the requester meant to remove: what the pending marker recorded, or what ran
    # when they asked. If the stage has changed since (GitHub's and the registry's clocks
    # count whole seconds: a tie counts as changed), the rollback changes nothing.
    seen = req.judged.get("removes")
    if seen is None and entry is not None and entry.since >= req.created_at:
        seen = next(
            (p.version for p in entry.previous if p.since < req.created_at),
            "the version live when it was asked",
        )
    if entry is not None and seen is not None and seen != entry.version:
        exc = Superseded(model, stage, seen, entry.version, entry.by, entry.since)
        return gated.superseded(rc, {**target_info, "version": entry.version}, exc)
    try:
        live, target = plan.rollback_target(state, stage, args.to)
        plan.require_record(state, target)
    except MlbotError as exc:
        return Reply("refused", "usage", {"why": str(exc), "fix": None})
    target_info.update(version=target, live_before=live)
    path = schema.stages_path(model)
    owners, where = rc.owners_of(path)
    found = [*pre.found, checks.codeowners(owners, where, path, rc.default_branch)]
    is_owner = req.requester.lower() in {o.lower() for o in owners}
    if policy.rollback.requesters == "owners" and not is_owner:
        found.append(checks.owner_requester(req.requester, owners))
    approvals = checks.issue_approvals(
        approve_intents(rc.comments(req.number), req.bot_login),
        owners=owners,
        since=req.created_at,
        requester=req.requester,
        allow_self_approval=policy.rollback.allow_self_approval,
        requester_approves=is_owner and policy.rollback.allow_self_approval,
    )
    verdict = gates.evaluate_rollback(
        policy, GateEvidence(stage=stage, version=target, approvals=approvals)
    )
    info = audit.Audit(
        requested_by=req.requester,
        approved_by=approvals.approvers,
        evidence=(f"approvals: {verdict.checks[0].reason}",),
        refs=(f"#{req.number}",),
        reason=args.reason or None,
        extra={"Command": req.identity.trailer},
    )

    def write():
        return rc.registry().rollback(
            model,
            stage,
            audit_info=info,
            to=target,
            approvals=approvals,
            removes=live,
            known_head=state.head,
        )

    def after(outcome) -> dict[str, Any]:
        written = schema.parse_file(path, outcome.change.files[path], schema.StagesFile)
        return {"live": written.live()}

    judgement = gated.Judgement(
        action="rollback",
        done_action="rolled back",
        target=target_info,
        checks=[*found, *verdict.checks],
        approvals=approvals,
        owners=owners,
        is_pull=False,
        head_sha=pre.head_sha,
        expiry_hours=policy.for_stage(stage).pending_expiry_hours,
        write=write,
        evidence=[f"reason: {code(args.reason)}"] if args.reason else [],
        after=after,
        marker={"removes": live},
    )
    return gated.finish(rc, req, judgement, completing=completing, now=time.time())


COMMAND = Command(
    name=NAME,
    usage=USAGE,
    summary="Point production back at what ran there before (or at a named earlier version).",
    who=(
        "People with write access ask (or only code owners, if the rollback policy says so); "
        "one code owner approves, and that may be the requester."
    ),
    examples=(
        ("/rollback because error rate doubled", "the one model, to what ran before"),
        ("/rollback cancer to v1.0.0 because bad calibration", "to a version live there before"),
    ),
    parse=parse,
    handle=handle,
    gated=True,
)
