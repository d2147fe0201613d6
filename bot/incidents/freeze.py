"""Whether promotions of a model into a stage are frozen: the named check `freeze`.

Frozen while an incident issue of the model is open for that stage (an issue
mlbot opened, for the stage its record names, unless `/unfreeze` lifted it),
or while any open issue a person labelled `mlbot:incident` and `model:<name>`
exists (for the policy's baseline stage: labelling needs triage rights).
Rebuilt from the issues on every command; nothing is stored. Rollbacks are
never frozen: they are how an incident ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.incidents.issue import by_bot, incident_issues
from bot.incidents.record import read
from bot.policy.verdict import Check

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext


def freezing(rc: RepoContext, model: str, stage: str) -> list[int]:
    """The open issues that freeze promotions of `model` into `stage`, oldest first."""
    baseline = rc.policy(model).baseline_stage
    found = []
    for issue in open_incidents(rc, model):
        record = read(issue.get("body")) if by_bot(rc, issue) else None
        if record is None:
            if stage == baseline:
                found.append(int(issue["number"]))
        elif record.model == model and record.stage == stage and record.frozen:
            found.append(int(issue["number"]))
    return found


def open_incidents(rc: RepoContext, model: str) -> list[dict[str, Any]]:
    """The model's open incident issues, read once per job (a promotion reads them early)."""
    return rc.once(f"incidents:open:{model}", lambda: incident_issues(rc, model, state="open"))


def check(rc: RepoContext, model: str, stage: str) -> Check:
    numbers = freezing(rc, model, stage)
    if not numbers:
        return Check("freeze", "pass", f"no open incident freezes {model} in {stage}.")
    where = ", ".join(f"#{n}" for n in numbers)
    return Check(
        "freeze",
        "fail",
        f"promotions of {model} into {stage} are frozen by the open incident {where}.",
        f"Close {where} once the incident is over, or ask a code owner for"
        f" `/unfreeze {model} {stage}` there; `/rollback` stays allowed.",
    )
