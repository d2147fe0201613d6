"""Decorator routing of webhook events to handlers, in the style of gidgethub.

    router = Router()

    @router.register("issue_comment", action="created")
    def on_comment(event: IssueCommentEvent, ctx: JobContext) -> None: ...

Each feature module keeps its own router; `Router(*routers)` composes them.
Handlers are plain functions run in worker threads, after the delivery has
been stored: they may take their time and call GitHub synchronously.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.webhooks.context import JobContext
from bot.webhooks.payloads import WebhookEvent

Handler = Callable[[Any, JobContext], None]
OWN_KIND_PREFIX = "mlbot_"


class Router:
    """Maps (event, action) to handlers; action None means every action of the event."""

    def __init__(self, *routers: Router) -> None:
        self._routes: dict[tuple[str, str | None], list[Handler]] = {}
        for other in routers:
            for key, handlers in other._routes.items():
                self._routes.setdefault(key, []).extend(handlers)

    def register(self, event: str, action: str | None = None) -> Callable[[Handler], Handler]:
        """Decorator: run the function for this event (and only this action, if given)."""

        def decorate(handler: Handler) -> Handler:
            self.add(event, action, handler)
            return handler

        return decorate

    def add(self, event: str, action: str | None, handler: Handler) -> None:
        self._routes.setdefault((event, action), []).append(handler)

    def handlers_for(self, event: str, action: str | None) -> list[Handler]:
        """Handlers of this exact action first, then those for every action."""
        found = list(self._routes.get((event, action), [])) if action is not None else []
        return found + list(self._routes.get((event, None), []))

    def handles(self, event: str, action: str | None) -> bool:
        return bool(self.handlers_for(event, action))

    def handles_event(self, event: str) -> bool:
        return any(key[0] == event for key in self._routes)

    def routes(self) -> list[tuple[str, str | None]]:
        """Every (event, action) some handler wants; action None means every action."""
        return list(self._routes)

    def events(self) -> set[str]:
        """Every GitHub event some handler listens to: what the App must subscribe to.

        Job kinds of mlbot's own (`mlbot_…`, e.g. an alert from `POST /alerts`) are
        routed too but are not GitHub's: `POST /webhook` never takes them.
        """
        return {event for event, _ in self._routes if not event.startswith(OWN_KIND_PREFIX)}

    def dispatch(self, payload: WebhookEvent, ctx: JobContext) -> int:
        """Run every handler for the event in order; returns how many ran."""
        handlers = self.handlers_for(ctx.event, ctx.action)
        for handler in handlers:
            handler(payload, ctx)
        return len(handlers)
