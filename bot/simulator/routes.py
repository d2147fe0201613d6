"""The handler table: one function per GitHub operationId."""

from __future__ import annotations

from collections.abc import Callable

from bot.simulator.request import RequestContext, Response

Handler = Callable[[RequestContext], Response]
HANDLERS: dict[str, Handler] = {}


def op(operation_id: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the simulator's answer to `operation_id`."""

    def register(fn: Handler) -> Handler:
        HANDLERS[operation_id] = fn
        return fn

    return register
