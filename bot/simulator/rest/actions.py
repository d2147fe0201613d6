"""GitHub Actions: workflow runs and their artifacts."""

from __future__ import annotations

from bot.simulator.pagination import paginate
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op


def _run(ctx: RequestContext):
    run = ctx.sim.workflow_runs.get(ctx.params["run_id"])
    if run is None or run.repo != ctx.repo().full_name:
        raise ApiError(404, "Not Found")
    return run


@op("actions/get-workflow-run")
def get_run(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.workflow_run(_run(ctx)))


@op("actions/list-workflow-runs-for-repo")
def list_runs(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    q = ctx.query
    runs = [
        r
        for r in sorted(sim.workflow_runs.values(), key=lambda r: r.id, reverse=True)
        if r.repo == repo.full_name
        and q.get("head_sha") in (None, r.head_sha)
        and q.get("branch") in (None, r.head_branch)
        and q.get("event") in (None, r.event)
        and q.get("status") in (None, r.status, r.conclusion)
    ]
    page = paginate(ctx, runs, sim.render.workflow_run)
    return Response(200, {"total_count": len(runs), "workflow_runs": page.body}, page.headers)


@op("actions/list-workflow-run-artifacts")
def list_run_artifacts(ctx: RequestContext) -> Response:
    sim = ctx.sim
    run = _run(ctx)
    arts = [sim.artifacts[i] for i in run.artifact_ids]
    if ctx.query.get("name"):
        arts = [a for a in arts if a.name == ctx.query["name"]]
    page = paginate(ctx, arts, sim.render.artifact)
    return Response(200, {"total_count": len(arts), "artifacts": page.body}, page.headers)


def _artifact(ctx: RequestContext):
    art = ctx.sim.artifacts.get(ctx.params["artifact_id"])
    if art is None or art.repo != ctx.repo().full_name:
        raise ApiError(404, "Not Found")
    return art


@op("actions/get-artifact")
def get_artifact(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.artifact(_artifact(ctx)))


@op("actions/download-artifact")
def download_artifact(ctx: RequestContext) -> Response:
    art = _artifact(ctx)
    if art.expired:
        raise ApiError(410, "Artifact has expired")
    return Response(302, None, {"Location": ctx.sim.artifact_download_url(art)})
