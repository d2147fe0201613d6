"""`incidents.auto_rollback`: roll a stage back on a matching alert, by policy only.

The write goes through the registry's rollback, the one `/rollback` ends in
(same rule: only to a version that was live in that stage before; a
rollback that lost a race to another change writes nothing), with the audit
trailers a manual one has plus the alert. The policy section, read from the
default branch and approved like any policy change, is the authorisation.
Once per incident: concurrent or repeated alerts do not roll back twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from bot import rendering
from bot.errors import MlbotError
from bot.incidents.issue import Incident, comment, now_text, save
from bot.registry import audit, plan

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.incidents.alerts import Alert
    from bot.policy.schema import AutoRollback


def matches(rule: AutoRollback, alert: Alert) -> bool:
    return all(alert.labels.get(k) == v for k, v in rule.when.items())


def _restored_by_rollback(rc: RepoContext, model: str, stage: str) -> bool:
    """Whether the stage's latest registry change was a rollback (by anyone)."""
    for info in rc.registry_log(model):
        subject = info.subject
        if subject.startswith("registry: roll back ") and f" {stage} " in f"{subject} ":
            return True
        if subject.startswith("registry: promote ") and subject.endswith(f" to {stage}"):
            return False
    return False


def maybe_roll_back(
    rc: RepoContext, incident: Incident, alert: Alert, *, now: dt.datetime | None = None
) -> str | None:
    """Roll back if the policy says so; the commit, or None (the reason goes in the issue)."""
    record = incident.record
    rule = rc.policy(record.model).incidents.auto_rollback
    if rule is None or not matches(rule, alert) or record.rolled_back:
        return None
    state = rc.state(record.model)
    entry = (state.stages.stages if state.stages else {}).get(record.stage)
    if entry is None:
        return None
    if _restored_by_rollback(rc, record.model, record.stage):
        # Rolling back again would bring back the very version a rollback just removed.
        record.events.append(
            {
                "at": now_text(),
                "kind": "no-rollback",
                "what": f"no automatic rollback: {entry.version} is live in {record.stage} by a"
                " rollback already; a person decides",
            }
        )
        save(rc, incident)
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    hours = (now - entry.since).total_seconds() / 3600
    if hours > rule.live_for_at_most_hours:
        record.events.append(
            {
                "at": now_text(),
                "kind": "no-rollback",
                "what": f"no automatic rollback: {entry.version} has been live {hours:.1f} h,"
                f" longer than the policy's {rule.live_for_at_most_hours:g} h; a person decides",
            }
        )
        save(rc, incident)
        return None
    try:
        live, target = plan.rollback_target(state, record.stage, None)
        plan.require_record(state, target)
        info = audit.Audit(
            requested_by="mlbot",
            evidence=("approvals: by policy incidents.auto_rollback",),
            refs=(f"#{incident.number}",),
            reason=f"alert {alert.name} fired",
            extra={"Alert": f"{alert.name} {alert.fingerprint}".strip()},
        )
        outcome = rc.registry().rollback(
            record.model, record.stage, audit_info=info, to=target, removes=live
        )
    except MlbotError as exc:
        record.events.append(
            {"at": now_text(), "kind": "no-rollback", "what": f"automatic rollback not done: {exc}"}
        )
        save(rc, incident)
        return None
    rc.wrote(outcome.commit)
    record.rolled_back = outcome.commit
    record.events.append(
        {
            "at": now_text(),
            "kind": "rollback",
            "what": f"rolled {record.stage} back from {live} to {target} by policy"
            f" (commit {outcome.commit[:12]})",
        }
    )
    save(rc, incident)
    comment(
        rc,
        incident.number,
        rendering.render(
            "bot.incidents",
            "incident_rolled_back.md.j2",
            stage=record.stage,
            version=target,
            removed=live,
            alert=alert,
            hours=f"{hours:.1f}",
            window=f"{rule.live_for_at_most_hours:g}",
            commit=outcome.commit,
        ),
    )
    return outcome.commit
