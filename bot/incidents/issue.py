"""The incident issue of a model and stage: found, opened, updated, reopened, from GitHub alone.

One issue per model and stage, labelled `mlbot:incident` and `model:<name>`:
the first firing alert opens it, later alerts update its body in place, a
resolved alert comments (and, once every alert is resolved, suggests closing),
and an alert firing again on a closed incident reopens it. Runs under a lock
per model (the store's, across replicas), so alerts arriving together open
one issue and roll back once.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import rendering
from bot.incidents.record import INCIDENT_LABEL, Record, model_label, read

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.incidents.alerts import Alert


def _render(name: str, **context: Any) -> str:
    return rendering.render("bot.incidents", name, **context)


def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Incident:
    number: int
    state: str  # open or closed
    record: Record


def incident_issues(rc: RepoContext, model: str, state: str = "all") -> list[dict[str, Any]]:
    """The model's incident issues (pull requests excluded), oldest first."""
    found = rc.gh.pages(
        f"/repos/{rc.full_name}/issues",
        {"labels": f"{INCIDENT_LABEL},{model_label(model)}", "state": state, "direction": "asc"},
    )
    issues = [i for i in found if not i.get("pull_request")]
    return sorted(issues, key=lambda i: int(i["number"]))


def by_bot(rc: RepoContext, issue: dict[str, Any]) -> bool:
    return str((issue.get("user") or {}).get("login", "")).lower() == rc.bot_login.lower()


def find(rc: RepoContext, model: str, stage: str) -> Incident | None:
    """The incident of model and stage: the open one, else the latest closed one."""
    mine = []
    for issue in incident_issues(rc, model):
        record = read(issue.get("body")) if by_bot(rc, issue) else None
        if record is not None and record.model == model and record.stage == stage:
            mine.append(Incident(int(issue["number"]), str(issue["state"]), record))
    open_ones = [i for i in mine if i.state == "open"]
    if open_ones:
        return open_ones[0]
    return mine[-1] if mine else None


def incident_lock(rc: RepoContext, model: str) -> AbstractContextManager[object]:
    """One incident writer per model, across replicas (the registry write inside takes the
    model's own lock, so this is a lock of its own)."""
    if rc.model_lock is None:
        return nullcontext()
    return rc.model_lock(rc.full_name, f"{model}#incident")


def open_issue(rc: RepoContext, record: Record) -> int:
    """Open the incident issue of a new record; its number."""
    created = rc.gh.rest(
        "POST",
        f"/repos/{rc.full_name}/issues",
        body={
            "title": _render(
                "incident_title.txt.j2", model=record.model, stage=record.stage
            ).strip(),
            "body": body(rc, record),
            "labels": [INCIDENT_LABEL, model_label(record.model)],
        },
    )
    return int(created["number"])


def live_info(rc: RepoContext, model: str, stage: str) -> tuple[dict[str, Any] | None, str | None]:
    """What runs in the stage (version, since, by) and the version that ran before it."""
    state = rc.state(model)
    entry = (state.stages.stages if state.stages else {}).get(stage)
    if entry is None:
        return None, None
    previous = next((p.version for p in entry.previous if p.version != entry.version), None)
    live = {"version": entry.version, "since": entry.since.isoformat(), "by": entry.by}
    return live, previous


def body(rc: RepoContext, record: Record) -> str:
    live, previous = live_info(rc, record.model, record.stage)
    return _render(
        "incident_body.md.j2",
        model=record.model,
        stage=record.stage,
        r=record,
        live=live,
        previous=previous,
    )


def save(rc: RepoContext, incident: Incident, *, reopen: bool = False) -> None:
    change: dict[str, Any] = {"body": body(rc, incident.record)}
    if reopen:
        change["state"] = "open"
    rc.gh.rest("PATCH", f"/repos/{rc.full_name}/issues/{incident.number}", body=change)


def comment(rc: RepoContext, number: int, text: str) -> None:
    rc.gh.rest("POST", f"/repos/{rc.full_name}/issues/{number}/comments", body={"body": text})


def alert_entry(alert: Alert) -> dict[str, str]:
    return {
        "name": alert.name,
        "status": alert.status,
        "startsAt": alert.startsAt,
        "endsAt": alert.endsAt if alert.status == "resolved" else "",
        "generatorURL": alert.generatorURL[:500],
        "severity": alert.labels.get("severity", "")[:40],
    }


def on_firing(rc: RepoContext, model: str, stage: str, alert: Alert) -> Incident:
    """Open, update or reopen the incident for a firing alert; returns it (open)."""
    fingerprint = alert.fingerprint or alert.name
    incident = find(rc, model, stage)
    at = now_text()
    if incident is None:
        record = Record(model, stage)
        record.alerts[fingerprint] = alert_entry(alert)
        record.events.append({"at": at, "what": f"alert {alert.name} fired", "kind": "fired"})
        record.events.append(
            {"at": at, "what": "incident issue opened; promotions frozen", "kind": "opened"}
        )
        return Incident(open_issue(rc, record), "open", record)
    record = incident.record
    known = record.alerts.get(fingerprint)
    again = known is not None and known.get("startsAt") != alert.startsAt
    record.alerts[fingerprint] = alert_entry(alert)
    reopen = incident.state == "closed"
    if reopen or again:
        record.frozen = True
    if known is None or again or reopen:
        record.events.append({"at": at, "what": f"alert {alert.name} fired", "kind": "fired"})
    if reopen:
        record.events.append(
            {"at": at, "what": "incident reopened; promotions frozen", "kind": "reopened"}
        )
    save(rc, incident, reopen=reopen)
    if again or reopen:
        comment(
            rc,
            incident.number,
            _render(
                "incident_refired.md.j2",
                alert=alert,
                fingerprint=fingerprint,
                reopened=reopen,
                model=model,
                stage=stage,
            ),
        )
    incident.state = "open"
    return incident


def on_resolved(rc: RepoContext, model: str, stage: str, alert: Alert) -> Incident | None:
    """Record a resolution on the incident (none: nothing to do) and suggest closing."""
    fingerprint = alert.fingerprint or alert.name
    incident = find(rc, model, stage)
    if incident is None:
        return None
    record = incident.record
    known = record.alerts.get(fingerprint)
    if (
        known is not None
        and known.get("status") == "resolved"
        and known.get("startsAt") == alert.startsAt
    ):
        return incident  # already recorded
    record.alerts[fingerprint] = alert_entry(alert)
    record.events.append(
        {"at": now_text(), "what": f"alert {alert.name} resolved", "kind": "resolved"}
    )
    save(rc, incident)
    comment(
        rc,
        incident.number,
        _render("incident_resolved.md.j2", alert=alert, fingerprint=fingerprint, r=record),
    )
    return incident
