"""The timeline posted when an incident issue closes: a ready start for the post-mortem.

Built from what GitHub holds: the incident's record (alerts fired and
resolved, the issue opened, freezes, what mlbot did), the registry commits
that name the issue (`Refs: #<n>`: rollbacks by policy or by `/rollback`),
and the closing itself. Posted once per closing (a marker names it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot import rendering
from bot.incidents.issue import Incident, comment, now_text, save
from bot.registry import audit

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext

_MARK = "<!-- mlbot:incident-timeline {} -->"


def entries(rc: RepoContext, incident: Incident, closed_by: str, at: str) -> list[dict[str, Any]]:
    """The incident's events and registry commits, oldest first, ending with the closing."""
    found = [dict(e) for e in incident.record.events]
    ref = f"#{incident.number}"
    for info in rc.registry_log(incident.record.model):
        if ref in audit.parse_trailers(info.message).get("Refs", []):
            found.append(
                {
                    "at": info.authored_at.replace(microsecond=0).isoformat(),
                    "kind": "commit",
                    "what": f"registry commit {info.sha[:12]}: {info.subject}",
                }
            )
    found.sort(key=lambda e: str(e.get("at", "")))
    found.append({"at": at, "kind": "closed", "what": f"issue closed by {closed_by}"})
    return found


def post_on_close(rc: RepoContext, incident: Incident, closed_by: str) -> bool:
    """Post the timeline of a closed incident once; False when this closing has one already."""
    closings = sum(1 for e in incident.record.events if e.get("kind") == "closed")
    mark = _MARK.format(closings + 1)
    for c in rc.comments(incident.number):
        author = str((c.get("user") or {}).get("login", "")).lower()
        if author == rc.bot_login.lower() and mark in (c.get("body") or ""):
            return False
    at = now_text()
    items = entries(rc, incident, closed_by, at)
    text = rendering.render(
        "bot.incidents",
        "incident_timeline.md.j2",
        model=incident.record.model,
        stage=incident.record.stage,
        items=items,
        mark=mark,
    )
    comment(rc, incident.number, text)
    incident.record.events.append({"at": at, "kind": "closed", "what": f"closed by {closed_by}"})
    save(rc, incident)
    return True
