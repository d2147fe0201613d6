"""Check runs."""

from __future__ import annotations

from bot.simulator.pagination import paginate
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import CheckRun


@op("checks/create")
def create_check(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    if ctx.token is None or ctx.token.installation_id is None:
        raise ApiError(403, "You must authenticate via a GitHub App.")
    slug = sim._installation_app[ctx.token.installation_id]
    conclusion = body.get("conclusion")
    status = "completed" if conclusion else body.get("status", "queued")
    now = sim.now_iso()
    run = CheckRun(
        sim.next_id(),
        repo.full_name,
        body["name"],
        body["head_sha"],
        status,
        conclusion,
        body.get("started_at") or now,
        (body.get("completed_at") or now) if conclusion else None,
        slug,
        body.get("output") or {},
        body.get("external_id"),
        body.get("details_url"),
    )
    sim.check_runs[run.id] = run
    return Response(201, sim.render.check_run(run))


@op("checks/update")
def update_check(ctx: RequestContext) -> Response:
    sim, body = ctx.sim, ctx.body
    run = sim.check_runs.get(ctx.params["check_run_id"])
    if run is None:
        raise ApiError(404, "Not Found")
    for key in ("name", "status", "details_url", "external_id"):
        if key in body:
            setattr(run, key, body[key])
    if body.get("output"):
        run.output = body["output"]
    if body.get("conclusion"):
        run.conclusion, run.status = body["conclusion"], "completed"
        run.completed_at = body.get("completed_at") or sim.now_iso()
    return Response(200, sim.render.check_run(run))


@op("checks/list-for-ref")
def list_checks(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    sha = ctx.resolve(ctx.params["ref"])
    runs = [r for r in sim.check_runs.values() if r.repo == repo.full_name and r.head_sha == sha]
    if ctx.query.get("check_name"):
        runs = [r for r in runs if r.name == ctx.query["check_name"]]
    if ctx.query.get("status"):
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if ctx.query.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for r in runs:
            latest[r.name] = r
        runs = list(latest.values())
    page = paginate(ctx, runs, sim.render.check_run)
    return Response(200, {"total_count": len(runs), "check_runs": page.body}, page.headers)
