"""The incident issue's record: what mlbot knows of an incident, kept in the issue itself.

Nothing is stored outside GitHub (as with pending commands): the issue body
carries a hidden marker holding the incident's alerts and what mlbot did,
and every event rebuilds from it. Only a marker in an issue the bot opened
is read (anyone can write an HTML comment into an issue of their own).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

INCIDENT_LABEL = "mlbot:incident"
_MARKER = re.compile(r"<!-- mlbot:incident (\{.*?\}) -->", re.S)


def model_label(model: str) -> str:
    return f"model:{model}"


@dataclass
class Record:
    """One incident of one model in one stage."""

    model: str
    stage: str
    # fingerprint -> {name, status, startsAt, endsAt, generatorURL, severity}
    alerts: dict[str, dict[str, str]] = field(default_factory=dict)
    # What happened, oldest first: {at, what, ...}; the timeline reads it.
    events: list[dict[str, Any]] = field(default_factory=list)
    rolled_back: str | None = None  # the rollback's commit, once mlbot rolled back
    # Promotions into the stage are refused while the issue is open, unless `/unfreeze` lifted it.
    frozen: bool = True

    def firing(self) -> list[dict[str, str]]:
        return [a for a in self.alerts.values() if a.get("status") == "firing"]

    def marker(self) -> str:
        doc = {
            "model": self.model,
            "stage": self.stage,
            "alerts": self.alerts,
            "events": self.events,
            "rolled_back": self.rolled_back,
            "frozen": self.frozen,
        }
        # Escaped so no alert text can close the HTML comment early.
        text = json.dumps(doc, sort_keys=True)
        for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("--", "-\\u002d")):
            text = text.replace(char, escaped)
        return "<!-- mlbot:incident " + text + " -->"


def read(body: str | None) -> Record | None:
    """The record in an issue body, or None when it holds none (or a broken one)."""
    found = _MARKER.search(body or "")
    if not found:
        return None
    try:
        doc = json.loads(found.group(1))
        return Record(
            model=str(doc["model"]),
            stage=str(doc["stage"]),
            alerts={str(k): dict(v) for k, v in dict(doc.get("alerts") or {}).items()},
            events=list(doc.get("events") or []),
            rolled_back=doc.get("rolled_back"),
            frozen=bool(doc.get("frozen", True)),
        )
    except (ValueError, KeyError, TypeError):
        return None
