"""The rate limit, as `GET /rate_limit` reports it."""

from __future__ import annotations

import time

from bot.simulator.request import RequestContext, Response
from bot.simulator.routes import op


@op("rate-limit/get")
def get_rate_limit(ctx: RequestContext) -> Response:
    sim = ctx.sim
    reset = int(sim.rate_limit_reset or time.time() + 3600)
    core = {
        "limit": sim.rate_limit_limit,
        "remaining": sim.rate_limit_remaining,
        "reset": reset,
        "used": sim.rate_limit_limit - sim.rate_limit_remaining,
    }
    search = {"limit": 30, "remaining": 30, "reset": reset, "used": 0}
    return Response(200, {"rate": core, "resources": {"core": core, "search": search}})
