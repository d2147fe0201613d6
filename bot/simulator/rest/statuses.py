"""Commit statuses and the combined status of a ref."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.simulator.pagination import paginate
from bot.simulator.request import RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import CommitStatus

if TYPE_CHECKING:
    from bot.simulator.world import World


@op("repos/create-commit-status")
def create_status(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    status = CommitStatus(
        sim.next_id(),
        repo.full_name,
        ctx.params["sha"],
        body["state"],
        body.get("context", "default"),
        body.get("description"),
        body.get("target_url"),
        sim.now_iso(),
        ctx.need_login(),
    )
    repo.store.get(status.sha)
    sim.statuses.append(status)
    return Response(201, sim.render.status(status))


@op("repos/get-combined-status-for-ref")
def combined_status(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    sha = ctx.resolve(ctx.params["ref"])
    latest: dict[str, CommitStatus] = {}
    for s in sim.statuses:
        if s.repo == repo.full_name and s.sha == sha:
            latest[s.context] = s
    states = [s.state for s in latest.values()]
    if any(s in ("error", "failure") for s in states):
        state = "failure"
    elif not states or any(s == "pending" for s in states):
        state = "pending"
    else:
        state = "success"
    base = f"{sim.url}/repos/{repo.full_name}/commits/{sha}"
    simple = sim.spec.skeleton("/components/schemas/minimal-repository")
    simple.update(sim.render.repo(repo, "minimal-repository"))
    return Response(
        200,
        {
            "state": state,
            "statuses": [_simple_status(sim, s) for s in latest.values()],
            "sha": sha,
            "total_count": len(latest),
            "repository": simple,
            "commit_url": base,
            "url": f"{base}/status",
        },
    )


def _simple_status(sim: World, s: CommitStatus) -> dict[str, Any]:
    full = sim.render.status(s)
    return {
        k: full[k]
        for k in (
            "id",
            "node_id",
            "state",
            "description",
            "target_url",
            "context",
            "created_at",
            "updated_at",
            "url",
            "avatar_url",
        )
    } | {"required": False}


@op("repos/list-commit-statuses-for-ref")
def list_statuses(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    sha = ctx.resolve(ctx.params["ref"])
    items = [s for s in reversed(sim.statuses) if s.repo == repo.full_name and s.sha == sha]
    return paginate(ctx, items, sim.render.status)
