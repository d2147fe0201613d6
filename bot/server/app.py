"""The bot's HTTP face: `POST /webhook`, `POST /alerts`, `/healthz`, `/readyz`, `/metrics`.

`POST /webhook` is served by `bot.server.endpoint.WebhookEndpoint`, a raw ASGI
callable the app calls before any FastAPI machinery (see `BotApp`); the other
routes are ordinary FastAPI/Starlette routes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import __version__
from bot.server.admission import Routes
from bot.server.alerts import AlertEndpoint
from bot.server.children import DEFAULT_ROUTER, load_router
from bot.server.endpoint import Receive, Scope, Send, WebhookEndpoint
from bot.server.github_clients import default_github_factory
from bot.server.intake import Intake
from bot.server.metrics import Metrics
from bot.server.roles import DeliveryIntake, Workers
from bot.server.settings import Settings
from bot.server.store import make_store
from bot.server.worker_process import WorkerProcess
from bot.server.workers import WorkerPool
from bot.server.writer_process import WriterProcess
from bot.webhooks.context import GitHubFactory
from bot.webhooks.router import Router

log = logging.getLogger("mlbot.webhook")


class BotApp(FastAPI):
    """FastAPI, with `POST /webhook` answered before routing and middleware.

    The route table also lists /webhook (so other methods get 405), but a
    POST goes straight to the endpoint: most requests the bot serves are
    webhooks, and the general machinery would cost them a good part of
    their acknowledgement time.
    """

    webhook: WebhookEndpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/webhook" and scope["method"] == "POST":
            await self.webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json")


def create_app(
    settings: Settings,
    router: Router | None = None,
    github_factory: GitHubFactory | None = None,
    *,
    worker_process: str | None = None,
) -> BotApp:
    """The ASGI app; its lifespan opens the store and starts the intake and the workers.

    The queue writer and the workers are threads of this process by default.
    With `worker_process` (the `module:attribute` of a router, as `mlbot serve`
    passes it) each is a child process instead (`bot.server.writer_child`,
    `bot.server.worker_process`): the workers run that router with GitHub
    clients built from the settings, and this process only acknowledges.
    """
    settings.require_webhook_secret()
    if router is None:
        router = load_router(worker_process or DEFAULT_ROUTER)
    # In threads, this store serves the intake and the workers; with child
    # processes, each child opens its own, and this one answers /readyz and
    # /metrics (and migrates the schema before the children start).
    store = make_store(
        settings.store_location(),
        intake_sync=settings.queue_sync,
        lease_seconds=settings.lease_seconds,
        connections=2 if worker_process else 2 * settings.workers + 4,
    )
    metrics = Metrics()
    metrics.watch_queue(store.counts)
    routes = Routes.of(router.routes(), settings.bot_login)
    pool: Workers
    intake: DeliveryIntake
    if worker_process is not None:
        if github_factory is not None:
            raise ValueError("a worker process builds its own GitHub clients from the settings")
        pool = WorkerProcess(settings, metrics, worker_process)
        intake = WriterProcess(settings, routes, on_stored=pool.wake)
    else:
        pool = WorkerPool(
            store, router, settings, metrics, github_factory or default_github_factory(settings)
        )
        intake = Intake(store, routes, on_stored=pool.wake)
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
                "database": settings.store_location().shown(),
                "workers": settings.workers,
                "handled_events": sorted(handled),
                "credentials_loaded": settings.credentials_loaded(),
            },
        )
        try:
            yield
        finally:
            await intake.aclose()
            await run_in_threadpool(pool.stop)
            store.close()
            log.info("mlbot bot stopped")

    app = BotApp(
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
    app.webhook = WebhookEndpoint(settings, router, intake, metrics)

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

    # Plain Starlette routes: no dependency injection or body parsing.
    app.router.routes.append(Route("/webhook", app.webhook, methods=["POST"]))
    alert_endpoint = AlertEndpoint(settings, intake, metrics)

    async def alerts(request: Request) -> Response:
        return await alert_endpoint(request)

    app.add_route("/alerts", alerts, methods=["POST"])
    app.add_route("/healthz", healthz, methods=["GET"])
    app.add_route("/readyz", readyz, methods=["GET"])
    app.add_route("/metrics", metrics_endpoint, methods=["GET"])
    return app
