"""`/freeze [model] [stage] [because ...]` and `/unfreeze [model] [stage]`, by a code owner.

`/freeze` opens (or reopens) the incident issue of the model and stage, which
freezes promotions into that stage while it is open (`bot.incidents.freeze`);
`/unfreeze` lifts the freeze of the open incident without closing it. Both
record who and why in the incident issue itself; nothing else is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chatops import checks
from bot.commands.grammar import take_reason
from bot.commands.interface import Command
from bot.commands.replies import Reply
from bot.errors import UsageError
from bot.incidents import issue
from bot.incidents.record import Record
from bot.registry import schema
from bot.registry.names import MODEL_NAME, STAGE_NAME
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request

FREEZE_USAGE = "/freeze [model] [stage] [because reason...]"
UNFREEZE_USAGE = "/unfreeze [model] [stage]"
MAX_REASON = 300


@dataclass(frozen=True)
class Args:
    model: str | None = None
    stage: str | None = None
    reason: str = ""


def _parse(words: tuple[str, ...], usage: str) -> Args:
    before, reason = take_reason(words)
    names = (MODEL_NAME, STAGE_NAME)
    if len(before) > 2 or any(not names[i].match(w) for i, w in enumerate(before)):
        raise UsageError(f"unexpected words {code(' '.join(before))}.", f"Usage: `{usage}`.")
    model = before[0] if before else None
    stage = before[1] if len(before) > 1 else None
    return Args(model, stage, reason[:MAX_REASON])


def parse_freeze(words: tuple[str, ...]) -> Args:
    return _parse(words, FREEZE_USAGE)


def parse_unfreeze(words: tuple[str, ...]) -> Args:
    return _parse(words, UNFREEZE_USAGE)


def _target(rc: RepoContext, req: Request, args: Args, usage: str) -> tuple[str, str, Reply | None]:
    model = checks.resolve_model(rc, args.model, usage, None)
    policy = rc.policy(model)
    stage = args.stage or policy.baseline_stage
    checks.known_stage(policy, stage)
    owners, _where = rc.owners_of(schema.stages_path(model))
    if req.requester.lower() not in {o.lower() for o in owners}:
        why = f"only code owners of `registry/{model}/` freeze or unfreeze it, and {req.requester}"
        why += " is not one."
        fix = f"Ask {', '.join(owners) or 'a code owner'}."
        return model, stage, Reply("refused", "usage", {"why": why, "fix": fix})
    return model, stage, None


def handle_freeze(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply:
    model, stage, refused = _target(rc, req, args, FREEZE_USAGE)
    if refused:
        return refused
    with issue.incident_lock(rc, model):
        incident = issue.find(rc, model, stage)
        what = f"promotions frozen by {req.requester}" + (f": {args.reason}" if args.reason else "")
        event = {"at": issue.now_text(), "what": what, "kind": "freeze"}
        if incident is None:
            number = issue.open_issue(rc, Record(model, stage, events=[event]))
        else:
            incident.record.frozen = True
            incident.record.events.append(event)
            issue.save(rc, incident, reopen=incident.state == "closed")
            number = incident.number
    return Reply(
        "done", "freeze", {"model": model, "stage": stage, "issue": number, "frozen": True}
    )


def handle_unfreeze(
    rc: RepoContext, req: Request, args: Args, *, completing: bool = False
) -> Reply:
    model, stage, refused = _target(rc, req, args, UNFREEZE_USAGE)
    if refused:
        return refused
    with issue.incident_lock(rc, model):
        incident = issue.find(rc, model, stage)
        if incident is None or incident.state != "open":
            return Reply(
                "info", "freeze", {"model": model, "stage": stage, "issue": None, "frozen": False}
            )
        incident.record.frozen = False
        incident.record.events.append(
            {
                "at": issue.now_text(),
                "what": f"freeze lifted by {req.requester}",
                "kind": "unfreeze",
            }
        )
        issue.save(rc, incident)
    return Reply(
        "done",
        "freeze",
        {"model": model, "stage": stage, "issue": incident.number, "frozen": False},
    )


WHO = "Code owners of `registry/<model>/`."
FREEZE = Command(
    name="freeze",
    usage=FREEZE_USAGE,
    summary="Refuse promotions of a model into a stage (production) until the incident closes.",
    who=WHO,
    examples=(("/freeze cancer because error rate doubled", "production, with a reason"),),
    parse=parse_freeze,
    handle=handle_freeze,
)
UNFREEZE = Command(
    name="unfreeze",
    usage=UNFREEZE_USAGE,
    summary="Allow promotions again while the incident stays open.",
    who=WHO,
    examples=(("/unfreeze cancer production", "the fix is in staging and may go on"),),
    parse=parse_unfreeze,
    handle=handle_unfreeze,
)
