"""Users, organizations and teams."""

from __future__ import annotations

from bot.simulator.pagination import paginate
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op


@op("users/get-by-username")
def get_user(ctx: RequestContext) -> Response:
    sim = ctx.sim
    if not sim.has_user(ctx.params["username"]):
        raise ApiError(404, "Not Found")
    user = sim.user(ctx.params["username"])
    out = sim.spec.skeleton("/components/schemas/public-user")
    out.update(sim.render.user(user.login))
    out.update(created_at=user.created_at, updated_at=user.created_at)
    return Response(200, out)


def _team(ctx: RequestContext):
    team = ctx.sim.teams.get((ctx.params["org"].lower(), ctx.params["team_slug"].lower()))
    if team is None:
        raise ApiError(404, "Not Found")
    return team


@op("teams/get-by-name")
def get_team(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.team(_team(ctx), "team-full"))


@op("teams/list-members-in-org")
def list_team_members(ctx: RequestContext) -> Response:
    team = _team(ctx)
    role = ctx.query.get("role", "all")
    members = sorted(m for m, r in team.members.items() if role in ("all", r))
    return paginate(ctx, members, ctx.sim.render.user)


@op("teams/get-membership-for-user-in-org")
def team_membership(ctx: RequestContext) -> Response:
    team = _team(ctx)
    login = ctx.params["username"]
    role = next((r for m, r in team.members.items() if m.lower() == login.lower()), None)
    if role is None:
        raise ApiError(404, "Not Found")
    url = f"{ctx.sim.url}/orgs/{team.org}/teams/{team.slug}/memberships/{login}"
    return Response(200, {"url": url, "role": role, "state": "active"})


@op("users/get-authenticated")
def get_authenticated_user(ctx: RequestContext) -> Response:
    if ctx.token is not None and ctx.token.installation_id is not None:
        # As on GitHub: an installation token has no user; the App learns its slug from GET /app.
        raise ApiError(403, "Resource not accessible by integration")
    sim = ctx.sim
    user = sim.user(ctx.need_login())
    out = sim.spec.skeleton("/components/schemas/public-user")
    out.update(sim.render.user(user.login))
    out.update(created_at=user.created_at, updated_at=user.created_at)
    return Response(200, out)


@op("orgs/get")
def get_org(ctx: RequestContext) -> Response:
    sim = ctx.sim
    login = ctx.params["org"]
    if not sim.has_user(login) or sim.user(login).type != "Organization":
        raise ApiError(404, "Not Found")
    out = sim.spec.skeleton("/components/schemas/organization-full")
    out.update(sim.org_json(login))
    out.update(
        has_organization_projects=False,
        has_repository_projects=False,
        followers=0,
        following=0,
        public_repos=0,
        public_gists=0,
    )
    return Response(200, out)
