"""Repository contents: reading and writing files through the contents API."""

from __future__ import annotations

import base64

import pygit2

from bot.simulator.bare_repo import Person
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.signing import WEB_FLOW, github_signs


@op("repos/get-content")
def get_content(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    ref = ctx.query.get("ref") or repo.default_branch
    sha = ctx.resolve(ref)
    obj = repo.store.read_path(sha, ctx.params["path"])
    if obj is None:
        raise ApiError(404, "Not Found")
    accept = next((v for k, v in ctx.headers.items() if k.lower() == "accept"), "")
    if ".raw" in accept and obj.type == pygit2.GIT_OBJECT_BLOB:
        # The raw media type: the file's bytes, not its JSON description.
        headers = {
            "Content-Type": "application/vnd.github.raw; charset=utf-8",
            "X-GitHub-Media-Type": "github.v3; param=raw",
        }
        return Response(200, raw=obj.data, headers=headers)
    return Response(200, ctx.sim.render.content(repo, ctx.params["path"], obj, ref))


@op("repos/create-or-update-file-contents")
def put_content(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    login = ctx.need_login()
    path = ctx.params["path"].strip("/")
    branch = body.get("branch") or repo.default_branch
    parent = repo.store.ref_sha(f"heads/{branch}")
    if parent is None:
        raise ApiError(404, f"Branch {branch} not found")
    existing = repo.store.read_path(parent, path)
    if existing is not None and body.get("sha") != str(existing.id):
        raise ApiError(409, f"{path} does not match {body.get('sha')}")
    if existing is None and body.get("sha"):
        raise ApiError(422, "sha wasn't supplied.")
    try:
        data = base64.b64decode(body["content"], validate=True)
    except ValueError:
        raise ApiError(422, "content is not valid Base64") from None
    person = sim.person(login)
    author = Person.from_json(body.get("author"), person)
    committer = Person.from_json(body.get("committer"), author if body.get("author") else person)
    signs = github_signs(ctx, body)
    if signs:
        committer = WEB_FLOW
    blob = repo.store.create_blob(data)
    tree = repo.store.create_tree(
        [{"path": path, "mode": "100644", "type": "blob", "sha": blob}],
        str(repo.store.get(parent).tree_id),
    )
    sha = repo.store.create_commit(body["message"], tree, [parent], author, committer)
    if signs:
        sim.signed_commits[sha] = sim.now()
    repo.store.set_ref(f"heads/{branch}", sha, force=False)
    sim._announce_push(repo, f"refs/heads/{branch}", parent, sha, login)
    sim._branch_moved(repo, branch, sha, login)
    content = sim.render.content(repo, path, repo.store.get(blob), branch)
    content.pop("content", None)
    content.pop("encoding", None)
    commit = sim.render.git_commit(repo, sha)
    return Response(201 if existing is None else 200, {"content": content, "commit": commit})
