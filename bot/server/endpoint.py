"""`POST /webhook` as a raw ASGI endpoint: the acknowledgement path, kept lean.

Every delivery passes here, so it skips what a general web route costs
(Starlette's request object, routing, five middleware layers) and does the
least work that makes a delivery safe, in this order:
1. bound the body (413 past the limit, read in chunks, never buffered beyond it);
2. check the HMAC signature against every configured secret (401, nothing kept);
3. check content type and GitHub's headers (415 / 400);
4. hand the body to the intake (`mlbot serve`: the queue-writer process), which
   validates it as the event's model (400), routes it (`bot.server.admission`)
   and stores the job durably in a group commit; then answer 202.
No GitHub call happens in the request: workers run the handlers afterwards.
A redelivery (an X-GitHub-Delivery already stored) is answered 200 and not
run again; events no handler wants are answered 200 and forgotten.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.server.admission import DUPLICATE, NEW, Rejected
from bot.server.logs import BoundLogger
from bot.server.metrics import Metrics, event_label
from bot.server.roles import DeliveryIntake
from bot.server.settings import Settings
from bot.webhooks.router import Router
from bot.webhooks.signature import verify

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("mlbot.webhook")

# GitHub sends a GUID; accept a little more, but nothing that could smuggle log noise.
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_EVENT_NAME = re.compile(r"[a-z][a-z_]{0,63}")
_WANTED = (
    b"content-length",
    b"content-type",
    b"x-github-event",
    b"x-github-delivery",
    b"x-hub-signature-256",
)


class _Disconnected(Exception):
    pass


async def send_json(send: Send, status: int, body: dict[str, Any] | bytes) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _read_bounded(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds limit (the rest is never read)."""
    message = await receive()
    if message["type"] == "http.disconnect":
        raise _Disconnected
    first: bytes = message.get("body", b"")
    if len(first) > limit:
        return None
    if not message.get("more_body", False):
        return first  # the usual case: one chunk, no copy
    body = bytearray(first)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body", False):
            return bytes(body)


def _headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each header the endpoint reads (names arrive lower-cased)."""
    every = dict(reversed(scope["headers"]))  # reversed: the first of repeated headers wins
    return {name: every[name].decode("latin-1") for name in _WANTED if name in every}


class WebhookEndpoint:
    """The ASGI callable serving `POST /webhook` for one app."""

    def __init__(
        self, settings: Settings, router: Router, intake: DeliveryIntake, metrics: Metrics
    ) -> None:
        self._intake = intake
        self._metrics = metrics
        self._secrets = settings.webhook_secrets()
        self._handled = frozenset(router.events())
        self._limit = settings.max_body_bytes
        self._counters: dict[tuple[str, str], Any] = {}

    def _count(self, label: str, outcome: str) -> None:
        # labels() hashes and locks on every call; the bound child can be kept.
        key = (label, outcome)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self._metrics.deliveries.labels(label, outcome)
        counter.inc()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer: dict[str, Any] | bytes
        try:
            status, answer = await self._handle(scope, receive)
        except Exception:
            log.exception("the webhook endpoint failed")
            status, answer = 500, {"error": "internal error"}
        await send_json(send, status, answer)

    def _refuse(
        self, status: int, event: str | None, outcome: str, message: str, delivery_id: str = ""
    ) -> tuple[int, dict[str, Any]]:
        self._count(event_label(event, self._handled), outcome)
        fields: dict[str, Any] = {"status": status, "reason": message, "event": (event or "")[:64]}
        if _DELIVERY_ID.fullmatch(delivery_id):
            fields["delivery_id"] = delivery_id
        log.info("delivery refused", extra=fields)
        return status, {"error": message}

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any] | bytes]:
        headers = _headers(scope)
        refuse = self._refuse
        event = headers.get(b"x-github-event")
        delivery_id = headers.get(b"x-github-delivery", "")
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isascii() or not declared.isdigit():
                return refuse(400, event, "bad_request", "invalid Content-Length")
            if int(declared) > self._limit:
                return refuse(413, event, "too_large", "payload too large")
        try:
            body = await _read_bounded(receive, self._limit)
        except _Disconnected:
            return refuse(400, event, "bad_request", "client disconnected")
        if body is None:
            return refuse(413, event, "too_large", "payload too large")
        if not verify(body, headers.get(b"x-hub-signature-256"), self._secrets):
            return refuse(
                401, event, "unauthorized", "missing or invalid X-Hub-Signature-256", delivery_id
            )
        content_type = headers.get(b"content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return refuse(415, event, "bad_request", "content type must be application/json")
        if not event or not _EVENT_NAME.fullmatch(event):
            return refuse(400, event, "bad_request", "missing or invalid X-GitHub-Event")
        if not _DELIVERY_ID.fullmatch(delivery_id):
            return refuse(400, event, "bad_request", "missing or invalid X-GitHub-Delivery")
        label = event_label(event, self._handled)

        if event not in self._handled:
            if not _is_json_object(body):
                return refuse(400, event, "bad_request", "body is not a JSON object", delivery_id)
            self._count(label, "ignored")
            return 200, _ignored(event, delivery_id)
        try:
            outcome = await self._intake.store(delivery_id, event, body)
        except Exception:
            # Not stored, so not acknowledged: GitHub shows the delivery as failed
            # and it can be redelivered once the disk is back.
            _bound(delivery_id, event).exception("the queue could not store the delivery")
            self._count(label, "unavailable")
            return 503, {"error": "the queue is unavailable; redeliver later"}
        if outcome == NEW:
            self._count(label, "queued")
            # Debug only: at info, formatting this line would be a good part of the
            # acknowledgement's cost; the worker logs the delivery id when it runs.
            if log.isEnabledFor(logging.DEBUG):
                _bound(delivery_id, event).debug("delivery queued")
            # What json.dumps would write, without its cost: the id is [A-Za-z0-9._-] only.
            pong = b', "pong": true}' if event == "ping" else b"}"
            return 202, b'{"status": "queued", "delivery_id": "%s"%s' % (delivery_id.encode(), pong)
        if outcome == DUPLICATE:
            self._count(label, "duplicate")
            _bound(delivery_id, event).info("redelivery acknowledged, not run again")
            return 200, {"status": "duplicate", "delivery_id": delivery_id}
        if isinstance(outcome, Rejected):
            return refuse(400, event, "bad_request", outcome.message, delivery_id)
        self._count(label, "ignored")
        return 200, _ignored(event, delivery_id)


def _bound(delivery_id: str, event: str) -> BoundLogger:
    return BoundLogger(log, {"delivery_id": delivery_id, "event": event})


def _ignored(event: str, delivery_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": "ignored", "delivery_id": delivery_id}
    if event == "ping":
        answer["pong"] = True
    return answer


def _is_json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        return False
