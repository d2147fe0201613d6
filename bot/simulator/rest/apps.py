"""GitHub Apps: the App itself, its installations, installation access tokens."""

from __future__ import annotations

from bot.simulator.pagination import paginate
from bot.simulator.render import iso
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op


@op("apps/get-authenticated")
def get_app(ctx: RequestContext) -> Response:
    assert ctx.app is not None
    return Response(200, ctx.sim.app_json(ctx.app.slug))


@op("apps/list-installations")
def list_installations(ctx: RequestContext) -> Response:
    assert ctx.app is not None
    ids = [i for i, s in ctx.sim._installation_app.items() if s == ctx.app.slug]
    return paginate(ctx, ids, lambda i: ctx.sim.render.installation(i))


@op("apps/get-installation")
def get_installation(ctx: RequestContext) -> Response:
    inst_id = ctx.params["installation_id"]
    if ctx.sim._installation_app.get(inst_id) != (ctx.app.slug if ctx.app else None):
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.installation(inst_id))


@op("apps/create-installation-access-token")
def create_installation_token(ctx: RequestContext) -> Response:
    sim = ctx.sim
    inst_id = ctx.params["installation_id"]
    if ctx.app is None or sim._installation_app.get(inst_id) != ctx.app.slug:
        raise ApiError(404, "Not Found")
    inst = sim.installations[inst_id]
    if inst.suspended:
        raise ApiError(403, "This installation has been suspended")
    token = sim.issue_installation_token(inst)
    assert token.expires_at is not None
    return Response(
        201,
        {
            "token": token.value,
            "expires_at": iso(token.expires_at),
            "permissions": inst.permissions,
            "repository_selection": "all" if inst.repos is None else "selected",
        },
    )


@op("apps/get-repo-installation")
def get_repo_installation(ctx: RequestContext) -> Response:
    inst = ctx.sim.installation_for(ctx.repo())
    if inst is None:
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.installation(inst.id))
