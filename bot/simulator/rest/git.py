"""Git data: blobs, trees, commits, refs and tags."""

from __future__ import annotations

import base64

import pygit2

from bot.simulator.bare_repo import Person
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.signing import WEB_FLOW, github_signs


@op("git/create-blob")
def create_blob(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    if body.get("encoding", "utf-8") == "base64":
        try:
            data = base64.b64decode(body["content"], validate=True)
        except ValueError:
            raise ApiError(422, "content is not valid Base64") from None
    else:
        data = body["content"].encode()
    sha = repo.store.create_blob(data)
    return Response(
        201, {"sha": sha, "url": f"{ctx.sim.url}/repos/{repo.full_name}/git/blobs/{sha}"}
    )


@op("git/get-blob")
def get_blob(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    blob = repo.store.get(ctx.params["file_sha"], pygit2.GIT_OBJECT_BLOB)
    sha = str(blob.id)
    return Response(
        200,
        {
            "sha": sha,
            "node_id": ctx.sim.render._node("Blob", sha),
            "url": f"{ctx.sim.url}/repos/{repo.full_name}/git/blobs/{sha}",
            "size": blob.size,
            "content": base64.encodebytes(blob.data).decode(),
            "encoding": "base64",
        },
    )


@op("git/create-tree")
def create_tree(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    for entry in ctx.body["tree"]:
        if "sha" in entry and "content" in entry and entry["sha"] is not None:
            raise ApiError(422, "Only one of sha or content may be given per tree entry")
    sha = repo.store.create_tree(ctx.body["tree"], ctx.body.get("base_tree"))
    return Response(201, ctx.sim.render.git_tree(repo, sha, recursive=False))


@op("git/get-tree")
def get_tree(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    ref = ctx.params["tree_sha"]
    obj = repo.store.get(ref)
    if obj.type == pygit2.GIT_OBJECT_COMMIT:
        obj = obj.tree
    recursive = ctx.query.get("recursive") not in (None, "", "0", "false")
    return Response(200, ctx.sim.render.git_tree(repo, str(obj.id), recursive))


@op("git/create-commit")
def create_commit(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    default = ctx.sim.person(ctx.need_login())
    author = Person.from_json(body.get("author"), default)
    committer = Person.from_json(body.get("committer"), author if body.get("author") else default)
    signs = github_signs(ctx, body)
    if signs:
        committer = WEB_FLOW
    sha = repo.store.create_commit(
        body["message"], body["tree"], body.get("parents", []), author, committer
    )
    if signs:
        ctx.sim.signed_commits[sha] = ctx.sim.now()
    return Response(201, ctx.sim.render.git_commit(repo, sha))


@op("git/get-commit")
def get_git_commit(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.git_commit(ctx.repo(), ctx.params["commit_sha"]))


@op("git/get-ref")
def get_ref(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    ref = ctx.params["ref"]
    sha = repo.store.ref_sha(ref)
    if sha is None:
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.git_ref(repo, f"refs/{ref}", sha))


@op("git/list-matching-refs")
def list_matching_refs(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    refs = repo.store.refs(ctx.params["ref"])
    return Response(200, [ctx.sim.render.git_ref(repo, name, sha) for name, sha in refs])


@op("git/create-ref")
def create_ref(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    name = body["ref"]
    if not name.startswith("refs/") or name.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    ref = name.removeprefix("refs/")
    repo.store.create_ref(ref, body["sha"])
    _after_ref_update(ctx, repo, name, None, body["sha"])
    return Response(201, ctx.sim.render.git_ref(repo, name, body["sha"]))


@op("git/update-ref")
def update_ref(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    ref = ctx.params["ref"]
    if repo.store.ref_sha(ref) is None:
        raise ApiError(422, "Reference does not exist")
    old = repo.store.set_ref(ref, body["sha"], force=bool(body.get("force", False)))
    _after_ref_update(ctx, repo, f"refs/{ref}", old, body["sha"])
    return Response(200, ctx.sim.render.git_ref(repo, f"refs/{ref}", body["sha"]))


def _after_ref_update(ctx: RequestContext, repo, name: str, old: str | None, new: str) -> None:
    login = ctx.need_login()
    obj = repo.store.get(new)
    # GitHub announces every branch and tag it is pushed, annotated tags included.
    if name.startswith(("refs/heads/", "refs/tags/")) and obj.type in (
        pygit2.GIT_OBJECT_COMMIT,
        pygit2.GIT_OBJECT_TAG,
    ):
        ctx.sim._announce_push(repo, name, old, new, login)
    if name.startswith("refs/heads/"):
        ctx.sim._branch_moved(repo, name.removeprefix("refs/heads/"), new, login)


@op("git/delete-ref")
def delete_ref(ctx: RequestContext) -> Response:
    ctx.repo().store.delete_ref(ctx.params["ref"])
    return Response(204)


@op("git/create-tag")
def create_tag(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    tagger = Person.from_json(body.get("tagger"), ctx.sim.person(ctx.need_login()))
    sha = repo.store.create_tag(body["tag"], body["message"], body["object"], tagger)
    return Response(201, ctx.sim.render.git_tag(repo, sha))


@op("git/get-tag")
def get_tag(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.git_tag(ctx.repo(), ctx.params["tag_sha"]))
