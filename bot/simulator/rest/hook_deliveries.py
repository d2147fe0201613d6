"""The App's webhook deliveries: list them (cursor pages), read one, redeliver one.

GitHub answers these to the App's JWT only, and never redelivers a failed delivery by
itself; an App that was down lists what failed and asks for each again.
"""

from __future__ import annotations

from bot.simulator.delivery import Delivery
from bot.simulator.pagination import paginate_by_cursor
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op


def _app_deliveries(ctx: RequestContext) -> list[Delivery]:
    """This App's attempts, newest first: events of its installations, and its pings."""
    sim, app = ctx.sim, ctx.app
    assert app is not None
    mine = {i for i, slug in sim._installation_app.items() if slug == app.slug}
    out = []
    for d in sim.webhooks.attempts():
        hook = d.payload.get("hook")
        pinged = d.event == "ping" and isinstance(hook, dict) and hook.get("app_id") == app.id
        if d.installation_id in mine or pinged:
            out.append(d)
    return sorted(out, key=lambda d: d.number, reverse=True)


def _delivery(ctx: RequestContext) -> Delivery:
    wanted = ctx.params["delivery_id"]
    found = next((d for d in _app_deliveries(ctx) if d.number == wanted), None)
    if found is None:
        raise ApiError(404, "Not Found")
    return found


@op("apps/list-webhook-deliveries")
def list_deliveries(ctx: RequestContext) -> Response:
    items = _app_deliveries(ctx)
    wanted = ctx.query.get("status")
    if wanted is not None:
        items = [d for d in items if (400 <= d.status_code <= 599) == (wanted == "failure")]
    render = ctx.sim.render.hook_delivery
    return paginate_by_cursor(ctx, items, lambda d: d.number, lambda d: render(d, full=False))


@op("apps/get-webhook-delivery")
def get_delivery(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.hook_delivery(_delivery(ctx), full=True))


@op("apps/redeliver-webhook-delivery")
def redeliver(ctx: RequestContext) -> Response:
    ctx.sim.webhooks.redeliver(_delivery(ctx).number)
    return Response(202, {})
