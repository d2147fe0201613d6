"""The bot's HTTP face: `POST /webhook`, `/healthz`, `/readyz`, `/metrics`.

`POST /webhook` does the least work that makes a delivery safe, in this order:
1. bound the body (413 past the limit, read in chunks, never buffered beyond it);
2. check the HMAC signature against every configured secret (401, nothing kept);
3. check content type and GitHub's headers (415 / 400);
4. validate the payload as the event's model (400), when a handler wants the event;
5. store the job durably (group commit), then answer 202.
No GitHub call happens in the request: workers run the handlers afterwards.
A redelivery (an X-GitHub-Delivery already stored) is answered 200 and not
run again; events no handler wants are answered 200 and forgotten.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from bot import __version__
from bot.server.intake import Intake
from bot.server.logs import BoundLogger
from bot.server.metrics import Metrics, event_label
from bot.server.queue import JobStore, NewJob
from bot.server.settings import Settings
from bot.server.workers import WorkerPool
from bot.webhooks import payloads
from bot.webhooks.context import GitHubFactory
from bot.webhooks.router import Router
from bot.webhooks.signature import verify

log = logging.getLogger("mlbot.webhook")

# GitHub sends a GUID; accept a little more, but nothing that could smuggle log noise.
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_EVENT_NAME = re.compile(r"[a-z][a-z_]{0,63}")
_PARSE_INLINE_BYTES = 512 * 1024


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def default_github_factory(settings: Settings) -> GitHubFactory:
    """Clients from `bot.github` (imported on first use, so the server starts without it)."""
    lock = threading.Lock()
    built: list[Any] = []

    def for_installation(installation_id: int | None) -> Any:
        with lock:
            if not built:
                from bot.github.client import GitHubClientFactory

                token = settings.github_token.get_secret_value() if settings.github_token else None
                built.append(
                    GitHubClientFactory(
                        settings.github_url,
                        app_id=settings.app_id,
                        private_key=settings.private_key_pem(),
                        token=token,
                    )
                )
        return built[0].for_installation(installation_id)

    return for_installation


async def _read_bounded(request: Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it exceeds limit (the rest is never read)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_app(
    settings: Settings,
    router: Router | None = None,
    github_factory: GitHubFactory | None = None,
) -> FastAPI:
    """The ASGI app; its lifespan opens the queue and starts the intake and the workers."""
    settings.require_webhook_secret()
    if router is None:
        from bot.webhooks.handlers import router as default_router

        router = default_router
    secrets = settings.webhook_secrets()
    store = JobStore(settings.database, settings.queue_sync)
    metrics = Metrics()
    metrics.watch_queue(store.counts)
    pool = WorkerPool(
        store, router, settings, metrics, github_factory or default_github_factory(settings)
    )
    intake = Intake(store, on_stored=pool.wake)
    handled = frozenset(router.events())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.open)
        pool.start()
        intake.start()
        log.info(
            "mlbot bot started",
            extra={
                "version": __version__,
                "database": str(settings.database),
                "workers": settings.workers,
                "handled_events": sorted(handled),
                "credentials_loaded": settings.credentials_loaded(),
            },
        )
        try:
            yield
        finally:
            intake.stop()
            await run_in_threadpool(pool.stop)
            store.close()
            log.info("mlbot bot stopped")

    app = FastAPI(
        title="mlbot",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = metrics
    app.state.router = router

    def refuse(
        status: int, event: str | None, outcome: str, message: str, delivery_id: str = ""
    ) -> Response:
        metrics.deliveries.labels(event_label(event, handled), outcome).inc()
        fields: dict[str, Any] = {"status": status, "reason": message, "event": (event or "")[:64]}
        if _DELIVERY_ID.fullmatch(delivery_id):
            fields["delivery_id"] = delivery_id
        log.info("delivery refused", extra=fields)
        return _json(status, {"error": message})

    async def webhook(request: Request) -> Response:
        headers = request.headers
        event = headers.get("x-github-event")
        delivery_id = headers.get("x-github-delivery", "")
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isascii() or not declared.isdigit():
                return refuse(400, event, "bad_request", "invalid Content-Length")
            if int(declared) > settings.max_body_bytes:
                return refuse(413, event, "too_large", "payload too large")
        try:
            body = await _read_bounded(request, settings.max_body_bytes)
        except ClientDisconnect:
            return refuse(400, event, "bad_request", "client disconnected")
        if body is None:
            return refuse(413, event, "too_large", "payload too large")
        if not verify(body, headers.get("x-hub-signature-256"), secrets):
            return refuse(
                401, event, "unauthorized", "missing or invalid X-Hub-Signature-256", delivery_id
            )
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            return refuse(415, event, "bad_request", "content type must be application/json")
        if not event or not _EVENT_NAME.fullmatch(event):
            return refuse(400, event, "bad_request", "missing or invalid X-GitHub-Event")
        if not _DELIVERY_ID.fullmatch(delivery_id):
            return refuse(400, event, "bad_request", "missing or invalid X-GitHub-Delivery")
        label = event_label(event, handled)

        if event not in handled:
            if not _is_json_object(body):
                return refuse(400, event, "bad_request", "body is not a JSON object", delivery_id)
            metrics.deliveries.labels(label, "ignored").inc()
            return _json(200, _ignored(event, delivery_id))
        try:
            if len(body) > _PARSE_INLINE_BYTES:
                # A big push can take a while to validate: not on the event loop.
                payload = await run_in_threadpool(payloads.parse, event, body)
            else:
                payload = payloads.parse(event, body)
        except ValidationError as exc:
            return refuse(400, event, "bad_request", _first_error(exc), delivery_id)
        action = payload.action
        if not router.handles(event, action) or _from_the_bot_itself(event, payload, settings):
            metrics.deliveries.labels(label, "ignored").inc()
            return _json(200, _ignored(event, delivery_id))

        installation_id = payload.installation.id if payload.installation else None
        bound = BoundLogger(log, {"delivery_id": delivery_id, "event": event, "action": action})
        try:
            new = await intake.submit(NewJob(delivery_id, event, action, installation_id, body))
        except Exception:
            # Not stored, so not acknowledged: GitHub shows the delivery as failed
            # and it can be redelivered once the disk is back.
            bound.exception("the queue could not store the delivery")
            metrics.deliveries.labels(label, "unavailable").inc()
            return _json(503, {"error": "the queue is unavailable; redeliver later"})
        if not new:
            metrics.deliveries.labels(label, "duplicate").inc()
            bound.info("redelivery acknowledged, not run again")
            return _json(200, {"status": "duplicate", "delivery_id": delivery_id})
        metrics.deliveries.labels(label, "queued").inc()
        # Debug only: at info, formatting this line would be a good part of the
        # acknowledgement's cost; the worker logs the delivery id when it runs.
        bound.debug("delivery queued", extra={"installation_id": installation_id})
        answer: dict[str, Any] = {"status": "queued", "delivery_id": delivery_id}
        if event == "ping":
            answer["pong"] = True
        return _json(202, answer)

    async def healthz(request: Request) -> Response:
        alive = pool.alive() and intake.alive()
        return _json(200 if alive else 503, {"status": "ok" if alive else "workers stopped"})

    async def readyz(request: Request) -> Response:
        checks = {
            "database": await run_in_threadpool(store.ping),
            "credentials": settings.credentials_loaded(),
            "workers": pool.alive() and intake.alive(),
        }
        ready = all(checks.values())
        return _json(200 if ready else 503, {"ready": ready, "checks": checks})

    async def metrics_endpoint(request: Request) -> Response:
        text = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    # Plain Starlette routes: no dependency injection or body parsing in the hot path.
    app.add_route("/webhook", webhook, methods=["POST"])
    app.add_route("/healthz", healthz, methods=["GET"])
    app.add_route("/readyz", readyz, methods=["GET"])
    app.add_route("/metrics", metrics_endpoint, methods=["GET"])
    return app


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


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "invalid payload"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"invalid payload at {where}: {first.get('msg', 'invalid')}"[:300]


def _from_the_bot_itself(event: str, payload: payloads.WebhookEvent, settings: Settings) -> bool:
    """The bot's own comments would otherwise be read as commands addressed to it."""
    sender = payload.sender
    return event == "issue_comment" and sender is not None and sender.login == settings.bot_login
