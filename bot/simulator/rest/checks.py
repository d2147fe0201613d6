"""Check runs: created and updated by Apps, with output, annotations and buttons (actions).

As on GitHub: only an App installation creates check runs (`checks: write`); an App edits
only its own; annotations accumulate over updates (at most 50 per request, which the
schema enforces); `actions` replace the previous ones (at most 3, labels of at most 20
characters, descriptions of 40, identifiers of 20: the schema again); a conclusion of
`action_required` needs a `details_url` (GitHub answers 422 otherwise).
"""

from __future__ import annotations

from typing import Any

from bot.simulator.auth import require_permission
from bot.simulator.pagination import paginate
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import CheckRun


def _app_slug(ctx: RequestContext) -> str:
    if ctx.token is None or ctx.token.installation_id is None:
        raise ApiError(403, "You must authenticate via a GitHub App.")
    require_permission(ctx.sim, ctx.token, "checks", "write")
    return ctx.sim._installation_app[ctx.token.installation_id]


def _run(ctx: RequestContext) -> CheckRun:
    run = ctx.sim.check_runs.get(ctx.params["check_run_id"])
    if run is None or run.repo != ctx.repo().full_name:
        raise ApiError(404, "Not Found")
    return run


def _apply(run: CheckRun, body: dict[str, Any], now: str) -> None:
    for key in ("name", "details_url", "external_id", "started_at"):
        if key in body:
            setattr(run, key, body[key])
    output = body.get("output")
    if output:
        run.output = {k: output.get(k) for k in ("title", "summary", "text")}
        run.annotations.extend(output.get("annotations") or [])
    if "actions" in body:
        run.actions = list(body["actions"])
    if body.get("conclusion"):
        run.conclusion, run.status = body["conclusion"], "completed"
        run.completed_at = body.get("completed_at") or now
    elif body.get("status"):
        run.status = body["status"]
        if run.status != "completed":
            run.conclusion, run.completed_at = None, None
    if run.conclusion == "action_required" and not run.details_url:
        raise ApiError(422, "details_url is required when the conclusion is action_required")


@op("checks/create")
def create_check(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    slug = _app_slug(ctx)
    repo.store.get(body["head_sha"])  # 422 for a commit the repository does not have
    now = sim.now_iso()
    run = CheckRun(
        sim.next_id(),
        repo.full_name,
        body["name"],
        body["head_sha"],
        "queued",
        None,
        now,
        None,
        slug,
    )
    _apply(run, body, now)
    sim.check_runs[run.id] = run
    return Response(201, sim.render.check_run(run))


@op("checks/update")
def update_check(ctx: RequestContext) -> Response:
    run = _run(ctx)
    if run.app_slug != _app_slug(ctx):
        raise ApiError(403, "Invalid app_id: this check run belongs to another App")
    _apply(run, ctx.body, ctx.sim.now_iso())
    return Response(200, ctx.sim.render.check_run(run))


@op("checks/get")
def get_check(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.check_run(_run(ctx)))


@op("checks/list-annotations")
def list_annotations(ctx: RequestContext) -> Response:
    run = _run(ctx)
    return paginate(ctx, list(run.annotations), ctx.sim.render.annotation)


@op("checks/rerequest-run")
def rerequest_check(ctx: RequestContext) -> Response:
    """An App asks for its own run again: GitHub answers 201 and sends `rerequested`."""
    run = _run(ctx)
    if run.app_slug != _app_slug(ctx):
        raise ApiError(403, "Invalid app_id: this check run belongs to another App")
    if run.status != "completed":
        raise ApiError(422, "This check run is not rerequestable")
    ctx.sim.rerun_check_run(run.id, user=ctx.need_login())
    return Response(201, {})


@op("checks/list-for-ref")
def list_checks(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    sha = ctx.resolve(ctx.params["ref"])
    runs = [r for r in sim.check_runs.values() if r.repo == repo.full_name and r.head_sha == sha]
    if ctx.query.get("check_name"):
        runs = [r for r in runs if r.name == ctx.query["check_name"]]
    if ctx.query.get("status"):
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if ctx.query.get("app_id") is not None:
        wanted = int(ctx.query["app_id"])
        runs = [r for r in runs if r.app_slug in sim.apps and sim.apps[r.app_slug].id == wanted]
    if ctx.query.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for r in runs:
            latest[r.name] = r
        runs = list(latest.values())
    runs.sort(key=lambda r: -r.id)  # newest first, as GitHub lists them
    page = paginate(ctx, runs, sim.render.check_run)
    return Response(200, {"total_count": len(runs), "check_runs": page.body}, page.headers)
