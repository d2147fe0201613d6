"""Alertmanager's webhook, as the pure data mlbot keeps of it.

Alertmanager (and Grafana's Alertmanager-compatible contact point) POSTs a
group of alerts, payload version 4 (https://prometheus.io/docs/alerting/latest/
configuration/#webhook_config). mlbot stores one job per alert, so each alert
is judged on its own; the job's id is derived from the group key, the alert's
fingerprint, its status and when it started, so Alertmanager's repeats
(`repeat_interval`, or the same alert in a regrouped notification) are one job,
while a resolution or a re-firing (a new `startsAt`) is a new one.

An alert names its model with labels; one that does not is acknowledged and
counted, never guessed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.registry.names import MODEL_NAME

REPOSITORY_LABEL = "mlbot_repository"
MODEL_LABEL = "mlbot_model"
STAGE_LABEL = "mlbot_stage"
# The job kind in the durable queue (beside GitHub's event names).
ALERT_EVENT = "mlbot_alert"

_REPOSITORY = r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$"
_STAGE = r"^[a-z][a-z0-9_-]{0,39}$"


class Alert(BaseModel):
    """One alert of a notification (unknown fields kept out, never refused)."""

    model_config = ConfigDict(extra="ignore")

    status: str = Field(pattern=r"^(firing|resolved)$")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str = ""
    endsAt: str = ""
    generatorURL: str = ""
    fingerprint: str = Field(default="", max_length=64)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "unnamed alert")[:200]


class Notification(BaseModel):
    """Alertmanager's webhook payload, version 4 (Grafana's webhook contact point sends the
    same fields, and more, as its version 1)."""

    model_config = ConfigDict(extra="ignore")

    version: str = Field(pattern=r"^[14]$")
    groupKey: str = Field(max_length=4096)
    truncatedAlerts: int = 0
    status: str = Field(pattern=r"^(firing|resolved)$")
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[Alert] = Field(default_factory=list, max_length=1000)


@dataclass(frozen=True)
class Target:
    """What an alert is about: a model of a repository, in a stage (None: the baseline)."""

    repository: str
    model: str
    stage: str | None


def target_of(alert: Alert) -> Target | None:
    """The model an alert names by its labels, or None (unlabelled or malformed: not guessed)."""
    import re

    repo = alert.labels.get(REPOSITORY_LABEL, "")
    model = alert.labels.get(MODEL_LABEL, "")
    stage = alert.labels.get(STAGE_LABEL) or None
    if not re.match(_REPOSITORY, repo) or not MODEL_NAME.match(model):
        return None
    if stage is not None and not re.match(_STAGE, stage):
        return None
    return Target(repo, model, stage)


def parse(body: bytes) -> Notification:
    """The notification, or ValueError saying what is wrong with it."""
    try:
        return Notification.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise ValueError(
            f"not an Alertmanager notification (version 4) at {where}: "
            f"{first.get('msg', 'invalid')}"[:300]
        ) from None


def job_id(group_key: str, alert: Alert) -> str:
    """The queue's delivery id of one alert: repeats of it are the same id."""
    key = json.dumps([group_key, alert.fingerprint or alert.labels, alert.status, alert.startsAt])
    return "alert-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def job_body(note: Notification, alert: Alert) -> bytes:
    """What a job of one alert stores: the alert, and where it came from."""
    doc: dict[str, Any] = {
        "alert": alert.model_dump(),
        "groupKey": note.groupKey,
        "receiver": note.receiver,
        "externalURL": note.externalURL,
    }
    return json.dumps(doc).encode()
