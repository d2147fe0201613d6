"""`ping`: GitHub's hello when the App or its webhook is created.

The ping payload lists the events the hook is subscribed to; the handler
warns when a handled event is missing, which is the usual reason a
freshly installed bot "does nothing".
"""

from __future__ import annotations

from bot.webhooks.context import JobContext
from bot.webhooks.payloads import PingEvent
from bot.webhooks.router import Router

router = Router()


@router.register("ping")
def on_ping(event: PingEvent, ctx: JobContext) -> None:
    subscribed = set(event.hook.events) if event.hook else set()
    expected = set(ctx.handled_events) - {"ping"}
    missing = sorted(expected - subscribed) if "*" not in subscribed else []
    ctx.log.info(
        "webhook ping",
        extra={"hook_id": event.hook_id, "zen": event.zen, "missing_events": missing},
    )
    if missing and subscribed:
        ctx.log.warning(
            "the webhook is not subscribed to events the bot handles",
            extra={"missing_events": missing},
        )
