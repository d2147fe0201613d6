"""`POST /alerts`: Alertmanager's webhook receiver, stored like a webhook before the answer.

1. bound the body (413);
2. check the bearer token (`MLBOT_ALERT_TOKEN`, several while rotating) in
   constant time against every configured token (401, nothing kept);
3. parse the notification (payload version 4; 400 otherwise);
4. store one job per alert that names its model (`bot.incidents.alerts`),
   through the same intake as webhooks, so Alertmanager's repeats are stored
   once; alerts without the labels are counted in /metrics and acknowledged.
Alertmanager retries a notification that is not answered 2xx, so a queue
that cannot store answers 503 and nothing is lost.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.incidents import alerts
from bot.server.admission import DUPLICATE, NEW, Rejected
from bot.server.metrics import Metrics
from bot.server.roles import DeliveryIntake
from bot.server.settings import Settings

log = logging.getLogger("mlbot.alerts")

# Alertmanager's notifications are small; a group of a thousand alerts is well under this.
MAX_ALERT_BODY_BYTES = 4 * 1024 * 1024


def bearer_ok(header: str | None, tokens: list[bytes]) -> bool:
    """True when `Authorization: Bearer <token>` names one of `tokens` (constant time each)."""
    if not header or not tokens:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    presented = given.strip().encode()
    ok = False
    for token in tokens:  # every token compared: the time does not say which matched
        ok |= hmac.compare_digest(presented, token)
    return ok


class AlertEndpoint:
    """The Starlette endpoint of `POST /alerts` for one app."""

    def __init__(self, settings: Settings, intake: DeliveryIntake, metrics: Metrics) -> None:
        self._tokens = settings.alert_tokens()
        self._intake = intake
        self._metrics = metrics

    def _answer(self, status: int, outcome: str, body: dict) -> JSONResponse:
        if status >= 400:
            self._metrics.alerts.labels(outcome).inc()
            log.info("alert notification refused", extra={"status": status, "reason": outcome})
        return JSONResponse(body, status_code=status)

    async def __call__(self, request: Request) -> JSONResponse:
        """The answer to one notification."""
        if not bearer_ok(request.headers.get("authorization"), self._tokens):
            why = (
                "missing or invalid bearer token"
                if self._tokens
                else "MLBOT_ALERT_TOKEN is not set"
            )
            return self._answer(401, "unauthorized", {"error": why})
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_ALERT_BODY_BYTES:
                return self._answer(413, "bad_request", {"error": "payload too large"})
        try:
            note = alerts.parse(bytes(body))
        except ValueError as exc:
            return self._answer(400, "bad_request", {"error": str(exc)})
        counts = {"queued": 0, "duplicate": 0, "unlabelled": 0, "ignored": 0}
        for alert in note.alerts:
            if alerts.target_of(alert) is None:
                counts["unlabelled"] += 1
                continue
            job_id = alerts.job_id(note.groupKey, alert)
            try:
                outcome = await self._intake.store(
                    job_id, alerts.ALERT_EVENT, alerts.job_body(note, alert)
                )
            except Exception:
                log.exception("the queue could not store an alert")
                return self._answer(503, "unavailable", {"error": "the queue is unavailable"})
            if isinstance(outcome, Rejected):
                return self._answer(400, "bad_request", {"error": outcome.message})
            # Ignored: this server runs no incident handler (a custom router).
            counts[{NEW: "queued", DUPLICATE: "duplicate"}.get(outcome, "ignored")] += 1
        for outcome, n in counts.items():
            if n:
                self._metrics.alerts.labels(outcome).inc(n)
        return JSONResponse({"status": "accepted", **counts}, status_code=202)
