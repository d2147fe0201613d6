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


@op("repos/compare-commits-with-basehead")
def compare_commits(ctx: RequestContext) -> Response:
    """`BASE...HEAD`: the commits on HEAD since the merge base, oldest first, as GitHub pages
    them (`per_page` ≤ 100; the files, up to 300, on the first page only)."""
    sim, repo = ctx.sim, ctx.repo()
    base_ref, sep, head_ref = ctx.params["basehead"].partition("...")
    if not sep or not base_ref or not head_ref:
        raise ApiError(404, "Not Found")
    store = repo.store
    base = store.resolve(base_ref, repo.default_branch)
    head = store.resolve(head_ref, repo.default_branch)
    if base is None or head is None:
        raise ApiError(404, "Not Found")
    merge_base = store.repo.merge_base(pygit2.Oid(hex=base), pygit2.Oid(hex=head))
    if merge_base is None:
        raise ApiError(404, f"No common ancestor between {base_ref} and {head_ref}.")

    def log(start: str) -> list[str]:
        walker = store.repo.walk(
            pygit2.Oid(hex=start),
            pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE,
        )
        walker.hide(merge_base)
        return [str(c.id) for c in walker]

    ahead, behind = log(head), log(base)
    page = max(int(ctx.query.get("page", 1)), 1)
    if "page" in ctx.query or "per_page" in ctx.query:
        per_page = min(int(ctx.query.get("per_page", 30)), 100)
        chunk = ahead[(page - 1) * per_page : page * per_page]
    else:
        chunk = ahead[-250:]  # unpaged, GitHub lists at most 250: the newest ones
    status = (
        "identical"
        if not ahead and not behind
        else "ahead"
        if not behind
        else "behind"
        if not ahead
        else "diverged"
    )
    out = ctx.sim.spec.skeleton("/components/schemas/commit-comparison")
    web = f"{sim.url}/_web/{repo.full_name}"
    out.update(
        url=f"{sim.url}/repos/{repo.full_name}/compare/{ctx.params['basehead']}",
        html_url=f"{web}/compare/{ctx.params['basehead']}",
        permalink_url=f"{web}/compare/{base}...{head}",
        diff_url=f"{web}/compare/{ctx.params['basehead']}.diff",
        patch_url=f"{web}/compare/{ctx.params['basehead']}.patch",
        base_commit=sim.render.commit(repo, base),
        merge_base_commit=sim.render.commit(repo, str(merge_base)),
        status=status,
        ahead_by=len(ahead),
        behind_by=len(behind),
        total_commits=len(ahead),
        commits=[sim.render.commit(repo, sha) for sha in chunk],
        files=_changed_files(ctx, str(merge_base), head)[:300] if page == 1 else [],
    )
    return Response(200, out)


def _changed_files(ctx: RequestContext, base: str, head: str) -> list[dict]:
    repo = ctx.repo()
    store = repo.store
    diff = store.repo.diff(store.repo.get(base).tree, store.repo.get(head).tree)
    names = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied"}
    files = []
    for patch in diff:
        delta = patch.delta
        _context, additions, deletions = patch.line_stats
        removed = delta.status_char() == "D"
        path = delta.old_file.path if removed else delta.new_file.path
        files.append(
            {
                "sha": str(delta.old_file.id if removed else delta.new_file.id),
                "filename": path,
                "status": names.get(delta.status_char(), "changed"),
                "additions": additions,
                "deletions": deletions,
                "changes": additions + deletions,
                "blob_url": f"{ctx.sim.url}/_web/{repo.full_name}/blob/{head}/{path}",
                "raw_url": f"{ctx.sim.url}/_web/{repo.full_name}/raw/{head}/{path}",
                "contents_url": f"{ctx.sim.url}/repos/{repo.full_name}/contents/{path}?ref={head}",
            }
        )
    return files
