"""Repositories: the repository, branches, commits, collaborators' permissions."""

from __future__ import annotations

import pygit2

from bot.simulator.pagination import paginate
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import PERMISSION_RANK


@op("repos/get")
def get_repo(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    out = ctx.sim.render.repo(repo)
    if ctx.login is not None:  # what the caller may do, as GitHub adds for a signed-in caller
        role = PERMISSION_RANK[ctx.sim.permission(repo, ctx.login)]
        out["permissions"] = {
            name: role >= PERMISSION_RANK[needed]
            for name, needed in (
                ("admin", "admin"),
                ("maintain", "maintain"),
                ("push", "write"),
                ("triage", "triage"),
                ("pull", "read"),
            )
        }
        if role >= PERMISSION_RANK["write"]:
            out["temp_clone_token"] = ""
    return Response(200, out)


@op("repos/get-branch")
def get_branch(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    sha = repo.store.ref_sha(f"heads/{ctx.params['branch']}")
    if sha is None:
        raise ApiError(404, "Branch not found")
    out = ctx.sim.spec.skeleton("/components/schemas/branch-with-protection")
    base = f"{ctx.sim.url}/repos/{repo.full_name}/branches/{ctx.params['branch']}"
    out.update(
        name=ctx.params["branch"],
        commit=ctx.sim.render.commit(repo, sha),
        _links={
            "html": f"{ctx.sim.url}/_web/{repo.full_name}/tree/{ctx.params['branch']}",
            "self": base,
        },
        protected=False,
        protection={
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        protection_url=f"{base}/protection",
    )
    return Response(200, out)


@op("repos/get-commit")
def get_commit(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    return Response(200, ctx.sim.render.commit(repo, ctx.resolve(ctx.params["ref"])))


@op("repos/list-commits")
def list_commits(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    start = ctx.resolve(ctx.query.get("sha"))
    path = ctx.query.get("path")
    shas = []
    walker = repo.store.repo.walk(pygit2.Oid(hex=start), pygit2.enums.SortMode.TOPOLOGICAL)
    for commit in walker:
        if path:
            here = repo.store.read_path(str(commit.id), path)
            parent = (
                repo.store.read_path(str(commit.parent_ids[0]), path) if commit.parent_ids else None
            )
            if (here.id if here else None) == (parent.id if parent else None):
                continue
        shas.append(str(commit.id))
    return paginate(ctx, shas, lambda s: ctx.sim.render.commit(repo, s))


@op("repos/get-collaborator-permission-level")
def collaborator_permission(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    login = ctx.params["username"]
    if not sim.has_user(login):
        raise ApiError(404, "Not Found")
    role = sim.permission(repo, login)
    legacy = {"maintain": "write", "triage": "read"}.get(role, role)
    user = sim.render.user(login)
    user["permissions"] = {
        "admin": role == "admin",
        "maintain": PERMISSION_RANK[role] >= PERMISSION_RANK["maintain"],
        "push": PERMISSION_RANK[role] >= PERMISSION_RANK["write"],
        "triage": PERMISSION_RANK[role] >= PERMISSION_RANK["triage"],
        "pull": PERMISSION_RANK[role] >= PERMISSION_RANK["read"],
    }
    user["role_name"] = role
    return Response(200, {"permission": legacy, "role_name": role, "user": user})


@op("repos/list-pull-requests-associated-with-commit")
def pulls_for_commit(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    sha = ctx.params["commit_sha"]
    items = [
        i
        for i in sim.issues(repo.full_name)
        if i.pull is not None and (i.pull.head_sha == sha or i.pull.merge_commit_sha == sha)
    ]
    return paginate(ctx, items, lambda i: ctx.sim.render.pull_simple(i))
