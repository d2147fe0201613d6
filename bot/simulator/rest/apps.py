"""GitHub Apps: the App itself, its installations, installation access tokens."""

from __future__ import annotations

from typing import Any

from bot.simulator.pagination import paginate
from bot.simulator.render import iso
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import ACCESS_LEVEL, Installation


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
    body = ctx.body or {}
    repos = _narrowed_repositories(ctx, inst, body)
    permissions = body.get("permissions") or None  # {} (PyGithub's default) narrows nothing
    if permissions is not None:
        granted = inst.permissions
        if any(
            ACCESS_LEVEL.get(level, 9) > ACCESS_LEVEL.get(granted.get(name, ""), 0)
            for name, level in permissions.items()
        ):
            raise ApiError(422, "The permissions requested are not granted to this installation.")
    token = sim.issue_installation_token(inst, repos=repos, permissions=permissions)
    assert token.expires_at is not None
    out: dict[str, Any] = {
        "token": token.value,
        "expires_at": iso(token.expires_at),
        "permissions": permissions or inst.permissions,
        "repository_selection": "all" if inst.repos is None and repos is None else "selected",
    }
    if repos is not None:
        out["repositories"] = [sim.render.repo(sim.repo(r), "repository") for r in repos]
    return Response(201, out)


def _narrowed_repositories(ctx: RequestContext, inst: Installation, body: dict) -> list[str] | None:
    """The repositories a token is asked for, each one its installation must cover."""
    names, ids = body.get("repositories"), body.get("repository_ids")
    if not names and not ids:
        return None
    sim = ctx.sim
    wanted = [f"{inst.account}/{n}" for n in names or []]
    wanted += [r.full_name for r in sim._repos.values() if r.id in set(ids or [])]
    found = [sim._repos.get(name.lower()) for name in wanted]
    if len(wanted) < len(names or []) + len(ids or []) or any(
        r is None or sim.installation_for(r) is not inst for r in found
    ):
        raise ApiError(
            422,
            "There is at least one repository that does not exist or is not accessible "
            "to the parent installation.",
        )
    return [r.full_name for r in found if r is not None]


@op("apps/get-repo-installation")
def get_repo_installation(ctx: RequestContext) -> Response:
    inst = ctx.sim.installation_for(ctx.repo())
    if inst is None:
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.installation(inst.id))
