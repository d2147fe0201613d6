"""Deployments, deployment statuses, environments, and the custom protection rule callback.

`POST /repos/{owner}/{repo}/deployments` is `repos/create-deployment`; an App needs
`deployments: write` to create deployments or statuses (403 otherwise, as on GitHub).
`POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule` is the
callback an App protecting an environment answers a waiting deploy job with.
"""

from __future__ import annotations

from bot.simulator.auth import require_permission
from bot.simulator.pagination import paginate
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import Deployment


def _deployment(ctx: RequestContext) -> Deployment:
    dep = ctx.sim.deployments.get(ctx.params["deployment_id"])
    if dep is None or dep.repo != ctx.repo().full_name:
        raise ApiError(404, "Not Found")
    return dep


@op("repos/create-deployment")
def create_deployment(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    require_permission(sim, ctx.token, "deployments", "write")
    dep = sim.create_deployment(
        repo.full_name,
        body["ref"],
        user=ctx.need_login(),
        task=body.get("task", "deploy"),
        environment=body.get("environment", "production"),
        payload=body.get("payload", ""),
        description=body.get("description", ""),
        production_environment=body.get("production_environment"),
        transient_environment=body.get("transient_environment", False),
        required_contexts=body.get("required_contexts"),
    )
    return Response(201, sim.render.deployment(dep))


@op("repos/list-deployments")
def list_deployments(ctx: RequestContext) -> Response:
    sim, repo, query = ctx.sim, ctx.repo(), ctx.query
    found = [
        d
        for d in sim.deployments_of(repo.full_name, query.get("environment"))
        if all(query.get(key) in (None, getattr(d, key)) for key in ("sha", "ref", "task"))
    ]
    return paginate(ctx, found, sim.render.deployment)


@op("repos/get-deployment")
def get_deployment(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.deployment(_deployment(ctx)))


@op("repos/create-deployment-status")
def create_deployment_status(ctx: RequestContext) -> Response:
    sim, body = ctx.sim, ctx.body
    require_permission(sim, ctx.token, "deployments", "write")
    dep = _deployment(ctx)
    status = sim.add_deployment_status(
        dep,
        body["state"],
        user=ctx.need_login(),
        description=body.get("description"),
        log_url=body.get("log_url") or body.get("target_url"),
        environment_url=body.get("environment_url"),
        auto_inactive=body.get("auto_inactive", True),
    )
    return Response(201, sim.render.deployment_status(dep, status))


@op("repos/list-deployment-statuses")
def list_deployment_statuses(ctx: RequestContext) -> Response:
    dep = _deployment(ctx)
    newest_first = list(reversed(dep.statuses))
    return paginate(ctx, newest_first, lambda s: ctx.sim.render.deployment_status(dep, s))


@op("repos/get-deployment-status")
def get_deployment_status(ctx: RequestContext) -> Response:
    dep = _deployment(ctx)
    status = next((s for s in dep.statuses if s["id"] == ctx.params["status_id"]), None)
    if status is None:
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.deployment_status(dep, status))


@op("repos/get-all-environments")
def list_environments(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    envs = [e for (name, _), e in sorted(sim.environments.items()) if name == repo.full_name]
    page = paginate(ctx, envs, sim.render.environment)
    return Response(200, {"total_count": len(envs), "environments": page.body}, page.headers)


@op("repos/get-environment")
def get_environment(ctx: RequestContext) -> Response:
    env = ctx.sim.environment(ctx.repo().full_name, ctx.params["environment_name"])
    return Response(200, ctx.sim.render.environment(env))


@op("repos/create-or-update-environment")
def put_environment(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    if sim.permission(repo, ctx.need_login()) != "admin":
        raise ApiError(403, "Must have admin rights to Repository.")
    env = sim.environment(repo.full_name, ctx.params["environment_name"], create=True)
    return Response(200, sim.render.environment(env))


@op("actions/review-custom-gates-for-run")
def review_custom_gates(ctx: RequestContext) -> Response:
    """Only an App installation answers, for its own rule on that run's environment."""
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    if ctx.token is None or ctx.token.installation_id is None:
        raise ApiError(403, "Only the GitHub App of the protection rule can review it")
    require_permission(sim, ctx.token, "deployments", "write")
    gate = sim.gate_requests.get(ctx.params["run_id"])
    if gate is None or gate.repo != repo.full_name:
        raise ApiError(404, "Not Found")
    slug = sim._installation_app[ctx.token.installation_id]
    if "state" not in body:
        return Response(204)  # a comment alone leaves the job waiting
    sim.review_deployment_gate(
        gate.run_id, slug, body["environment_name"], body["state"], body.get("comment")
    )
    return Response(204)
