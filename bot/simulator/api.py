"""The simulator's REST endpoints, keyed by GitHub's operationId, and the request pipeline."""

from __future__ import annotations

import base64
import contextlib
import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pygit2

from bot.simulator.core import (
    SECONDARY_RATE_LIMIT,
    ApiError,
    GitHubSimulator,
    LoggedRequest,
    RequestContext,
    Response,
    ValidationFailure,
)
from bot.simulator.gitstore import GitDataError, Person
from bot.simulator.render import iso
from bot.simulator.state import PERMISSION_RANK, CheckRun, CommitStatus, Reaction, Review

Handler = Callable[[RequestContext], Response]

# The only departure from the schemas: their descriptions say "You can also pass an
# `array` of labels directly", PyGithub does so, but the schema lists only the object form.
_BARE_LABEL_ARRAY = {"issues/add-labels", "issues/set-labels"}
HANDLERS: dict[str, Handler] = {}


def op(operation_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[operation_id] = fn
        return fn

    return register


# -- pipeline --------------------------------------------------------------------------------
def serve(
    sim: GitHubSimulator, method: str, raw_path: str, headers: dict[str, str], raw: bytes
) -> tuple[int, dict[str, str], bytes] | None:
    started = time.monotonic()
    parsed = urllib.parse.urlsplit(raw_path)
    path = urllib.parse.unquote(parsed.path)
    entry = LoggedRequest(method, path, parsed.query, None, None, 0.0, None)
    sim.requests.append(entry)
    try:
        if path.startswith("/_sim/"):
            response = _serve_blob(sim, path)
        else:
            fault = sim.faults.draw(path)
            entry.fault = fault
            if sim.faults.latency_per_call:
                time.sleep(sim.faults.latency_per_call)
            if fault == "latency":
                time.sleep(sim.faults.latency)
            elif fault == "timeout":
                if sim.faults.timeout_after_action:
                    with contextlib.suppress(ApiError):
                        _serve_api(sim, method, path, parsed.query, headers, raw, entry)
                time.sleep(sim.faults.timeout_delay)
                return None
            elif fault == "error":
                response = Response(502, {"message": "Server Error", "documentation_url": ""})
                return _finish(sim, entry, response, started)
            elif fault in ("rate_limit", "too_many_requests"):
                response = Response(
                    403 if fault == "rate_limit" else 429,
                    {"message": SECONDARY_RATE_LIMIT, "documentation_url": ""},
                    {"Retry-After": str(sim.faults.retry_after)},
                )
                return _finish(sim, entry, response, started)
            response = _serve_api(sim, method, path, parsed.query, headers, raw, entry)
    except ApiError as exc:
        response = Response(exc.status, exc.body())
    return _finish(sim, entry, response, started)


def _finish(
    sim: GitHubSimulator, entry: LoggedRequest, response: Response, started: float
) -> tuple[int, dict[str, str], bytes]:
    entry.status = response.status
    entry.duration = time.monotonic() - started
    headers = {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": str(sim.rate_limit_remaining),
        "X-RateLimit-Reset": str(int(sim.rate_limit_reset or time.time() + 3600)),
        "X-RateLimit-Resource": "core",
        "X-GitHub-Media-Type": "github.v3",
        **response.headers,
    }
    if response.raw is not None:
        body = response.raw
    elif response.body is None:
        body = b""
    else:
        body = json.dumps(response.body).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    return response.status, headers, body


def _serve_blob(sim: GitHubSimulator, path: str) -> Response:
    parts = path.split("/")  # /_sim/artifacts/{id}/{key}.zip
    if len(parts) == 5 and parts[2] == "artifacts":
        art = sim.artifacts.get(int(parts[3])) if parts[3].isdigit() else None
        if art and sim._download_keys.get(art.id) == parts[4].removesuffix(".zip"):
            return Response(200, raw=art.data, headers={"Content-Type": "application/zip"})
    raise ApiError(404, "Not Found")


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    if typ == "integer":
        return int(value)
    if typ == "number":
        return float(value)
    if typ == "boolean":
        if value not in {"true", "false"}:
            raise ValueError(value)
        return value == "true"
    if typ == "array":
        return value.split(",")
    return value


def _serve_api(
    sim: GitHubSimulator,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    raw: bytes,
    entry: LoggedRequest,
) -> Response:
    spec = sim.spec
    match = spec.match(method, path)
    if match is None:
        sim.validation_failures.append(
            ValidationFailure("route", method, path, ["no such operation in GitHub's REST API"])
        )
        raise ApiError(404, "Not Found")
    operation = match.operation
    entry.operation_id = operation.operation_id
    problems: list[str] = []

    # parameters
    params: dict[str, Any] = {}
    query: dict[str, Any] = {}
    raw_query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
    for param, pointer in spec.parameters(operation):
        name, where = param["name"], param["in"]
        schema = spec.resolve(param.get("schema", {}))
        if where == "path":
            value: Any = match.path_params.get(name)
        elif where == "query":
            values = raw_query.get(name)
            if values is None:
                if param.get("required"):
                    problems.append(f"query parameter {name!r} is required")
                continue
            value = values[-1]
        else:
            continue
        try:
            coerced = _coerce(value, schema)
        except ValueError:
            problems.append(f"{where} parameter {name!r}={value!r} is not a {schema.get('type')}")
            continue
        problems.extend(
            f"{where} parameter {name!r}: {e}" for e in spec.schema_errors(pointer, coerced)
        )
        (params if where == "path" else query)[name] = coerced

    # body
    body: Any = None
    body_pointer, body_required = spec.request_body_pointer(operation)
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            sim.validation_failures.append(
                ValidationFailure("request", method, path, ["body is not JSON"])
            )
            raise ApiError(400, "Problems parsing JSON") from None
    if operation.operation_id in _BARE_LABEL_ARRAY and isinstance(body, list):
        body = {"labels": body}
    if body_pointer:
        if body is None and body_required:
            problems.append("a JSON request body is required")
        elif body is not None:
            problems.extend(f"body {e}" for e in spec.schema_errors(body_pointer, body))
    if problems:
        sim.validation_failures.append(ValidationFailure("request", method, path, problems))
        raise ApiError(
            422,
            "Invalid request.\n\n" + "\n".join(problems),
            [
                {"resource": operation.operation_id, "code": "invalid", "message": p}
                for p in problems
            ],
        )

    # identity
    login, token, app = _authenticate(sim, operation.operation_id, headers)
    entry.login = login or (app.slug if app else None)
    url = f"{sim.url}{path}" + (f"?{query_string}" if query_string else "")
    ctx = RequestContext(sim, method, path, params, query, body, login, token, app, url)

    handler = HANDLERS.get(operation.operation_id)
    if handler is None:
        sim.validation_failures.append(
            ValidationFailure(
                "unimplemented",
                method,
                path,
                [f"{operation.operation_id} is valid on GitHub; the simulator does not serve it"],
            )
        )
        raise ApiError(501, f"{operation.operation_id} is not implemented by the simulator")
    try:
        with sim.lock:
            response = handler(ctx)
    except ApiError as exc:
        response = Response(exc.status, exc.body())
    except GitDataError as exc:
        response = Response(404 if exc.not_found else 422, ApiError(422, str(exc)).body())
        if exc.not_found:
            response.body["status"] = "404"

    # the response must be one GitHub documents
    schema_pointer, documented = spec.response_pointer(operation, response.status)
    if response.status < 400 and not documented:
        sim.validation_failures.append(
            ValidationFailure(
                "response", method, path, [f"status {response.status} is not documented"]
            )
        )
    elif schema_pointer and response.raw is None:
        errors = spec.schema_errors(
            schema_pointer, response.body, ambiguous_ok=response.status >= 400
        )
        if errors:
            sim.validation_failures.append(ValidationFailure("response", method, path, errors))
    return response


# Operations a GitHub App calls as itself, with its JWT rather than a token.
JWT_OPERATIONS = {
    "apps/get-authenticated",
    "apps/list-installations",
    "apps/get-installation",
    "apps/create-installation-access-token",
    "apps/get-repo-installation",
    "apps/get-org-installation",
    "apps/get-user-installation",
}


def _authenticate(sim: GitHubSimulator, operation_id: str, headers: dict[str, str]):
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    _scheme, _, credential = auth.partition(" ")
    if not credential:
        raise ApiError(401, "Requires authentication")
    if operation_id in JWT_OPERATIONS:
        return None, None, _verify_jwt(sim, credential)
    token = sim.tokens.get(credential)
    if token is None or (token.expires_at is not None and token.expires_at < sim.now()):
        raise ApiError(401, "Bad credentials")
    return token.login, token, None


def _verify_jwt(sim: GitHubSimulator, credential: str):
    import jwt

    try:
        claims = jwt.decode(credential, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise ApiError(401, "A JSON web token could not be decoded") from None
    app = next((a for a in sim.apps.values() if str(a.id) == str(claims.get("iss"))), None)
    if app is None:
        raise ApiError(401, "Integration not found")
    try:
        claims = jwt.decode(
            credential,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"]},
            leeway=60,
        )
    except jwt.PyJWTError as exc:
        raise ApiError(
            401,
            f"'Expiration time' claim ('exp') is invalid or the signature does not verify: {exc}",
        ) from None
    if claims["exp"] - claims["iat"] > 660:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
    return app


def _paginate(ctx: RequestContext, items: list[Any], render: Callable[[Any], Any]) -> Response:
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    page = max(int(ctx.query.get("page", 1)), 1)
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    parsed = urllib.parse.urlsplit(ctx.url)
    base_query = [(k, v) for k, v in urllib.parse.parse_qsl(parsed.query) if k != "page"]

    def link(n: int, rel: str) -> str:
        q = urllib.parse.urlencode([*base_query, ("page", str(n))])
        return f'<{parsed.scheme}://{parsed.netloc}{parsed.path}?{q}>; rel="{rel}"'

    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    headers = {"Link": ", ".join(links)} if links else {}
    return Response(200, [render(i) for i in chunk], headers)


# -- apps ------------------------------------------------------------------------------------
@op("apps/get-authenticated")
def get_app(ctx: RequestContext) -> Response:
    assert ctx.app is not None
    return Response(200, ctx.sim.app_json(ctx.app.slug))


def installation_json(sim: GitHubSimulator, inst_id: int) -> dict[str, Any]:
    inst = sim.installations[inst_id]
    slug = sim._installation_app[inst_id]
    app = sim.apps[slug]
    out = sim.spec.skeleton("/components/schemas/installation")
    out.update(
        id=inst.id,
        account=sim.render.user(inst.account),
        repository_selection="all" if inst.repos is None else "selected",
        access_tokens_url=f"{sim.url}/app/installations/{inst.id}/access_tokens",
        repositories_url=f"{sim.url}/installation/repositories",
        html_url=f"{sim.url}/_web/settings/installations/{inst.id}",
        app_id=app.id,
        app_slug=app.slug,
        target_id=sim.user(inst.account).id,
        target_type=sim.user(inst.account).type,
        permissions=inst.permissions,
        events=inst.events,
        created_at=sim.now_iso(),
        updated_at=sim.now_iso(),
        single_file_name=None,
        suspended_by=None,
        suspended_at=None,
    )
    return out


@op("apps/list-installations")
def list_installations(ctx: RequestContext) -> Response:
    assert ctx.app is not None
    ids = [i for i, s in ctx.sim._installation_app.items() if s == ctx.app.slug]
    return _paginate(ctx, ids, lambda i: installation_json(ctx.sim, i))


@op("apps/get-installation")
def get_installation(ctx: RequestContext) -> Response:
    inst_id = ctx.params["installation_id"]
    if ctx.sim._installation_app.get(inst_id) != (ctx.app.slug if ctx.app else None):
        raise ApiError(404, "Not Found")
    return Response(200, installation_json(ctx.sim, inst_id))


@op("apps/create-installation-access-token")
def create_installation_token(ctx: RequestContext) -> Response:
    sim = ctx.sim
    inst_id = ctx.params["installation_id"]
    if ctx.app is None or sim._installation_app.get(inst_id) != ctx.app.slug:
        raise ApiError(404, "Not Found")
    inst = sim.installations[inst_id]
    if inst.suspended:
        raise ApiError(403, "This installation has been suspended")
    token = sim.issue_installation_token(inst)
    assert token.expires_at is not None
    return Response(
        201,
        {
            "token": token.value,
            "expires_at": iso(token.expires_at),
            "permissions": inst.permissions,
            "repository_selection": "all" if inst.repos is None else "selected",
        },
    )


@op("apps/get-repo-installation")
def get_repo_installation(ctx: RequestContext) -> Response:
    inst = ctx.sim.installation_for(ctx.repo())
    if inst is None:
        raise ApiError(404, "Not Found")
    return Response(200, installation_json(ctx.sim, inst.id))


# -- repositories and contents ---------------------------------------------------------------
@op("repos/get")
def get_repo(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.repo(ctx.repo()))


@op("users/get-by-username")
def get_user(ctx: RequestContext) -> Response:
    sim = ctx.sim
    if not sim.has_user(ctx.params["username"]):
        raise ApiError(404, "Not Found")
    user = sim.user(ctx.params["username"])
    out = sim.spec.skeleton("/components/schemas/public-user")
    out.update(sim.render.user(user.login))
    out.update(created_at=sim.now_iso(), updated_at=sim.now_iso())
    return Response(200, out)


def _resolve(ctx: RequestContext, ref: str | None) -> str:
    repo = ctx.repo()
    sha = repo.store.resolve(ref or repo.default_branch, repo.default_branch)
    if sha is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    return sha


@op("repos/get-content")
def get_content(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    ref = ctx.query.get("ref") or repo.default_branch
    sha = _resolve(ctx, ref)
    obj = repo.store.read_path(sha, ctx.params["path"])
    if obj is None:
        raise ApiError(404, "Not Found")
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
    blob = repo.store.create_blob(data)
    tree = repo.store.create_tree(
        [{"path": path, "mode": "100644", "type": "blob", "sha": blob}],
        str(repo.store.get(parent).tree_id),
    )
    sha = repo.store.create_commit(body["message"], tree, [parent], person, person)
    repo.store.set_ref(f"heads/{branch}", sha, force=False)
    sim._announce_push(repo, f"refs/heads/{branch}", parent, sha, login)
    sim._follow_pr_heads(repo, branch, sha, login)
    content = sim.render.content(repo, path, repo.store.get(blob), branch)
    content.pop("content", None)
    content.pop("encoding", None)
    commit = sim.render.git_commit(repo, sha)
    return Response(201 if existing is None else 200, {"content": content, "commit": commit})


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
    return Response(200, ctx.sim.render.commit(repo, _resolve(ctx, ctx.params["ref"])))


@op("repos/list-commits")
def list_commits(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    start = _resolve(ctx, ctx.query.get("sha"))
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
    return _paginate(ctx, shas, lambda s: ctx.sim.render.commit(repo, s))


# -- git data --------------------------------------------------------------------------------
def _person(data: dict[str, Any] | None, fallback: Person) -> Person:
    if not data:
        return fallback
    when = None
    if data.get("date"):
        import datetime as dt

        when = int(dt.datetime.fromisoformat(data["date"].replace("Z", "+00:00")).timestamp())
    return Person(data.get("name", fallback.name), data.get("email", fallback.email), when)


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
    author = _person(body.get("author"), default)
    committer = _person(body.get("committer"), author if body.get("author") else default)
    sha = repo.store.create_commit(
        body["message"], body["tree"], body.get("parents", []), author, committer
    )
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
    if obj.type == pygit2.GIT_OBJECT_COMMIT or name.startswith("refs/heads/"):
        if obj.type == pygit2.GIT_OBJECT_COMMIT:
            ctx.sim._announce_push(repo, name, old, new, login)
        if name.startswith("refs/heads/"):
            ctx.sim._follow_pr_heads(repo, name.removeprefix("refs/heads/"), new, login)


@op("git/delete-ref")
def delete_ref(ctx: RequestContext) -> Response:
    ctx.repo().store.delete_ref(ctx.params["ref"])
    return Response(204)


@op("git/create-tag")
def create_tag(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    tagger = _person(body.get("tagger"), ctx.sim.person(ctx.need_login()))
    sha = repo.store.create_tag(body["tag"], body["message"], body["object"], tagger)
    return Response(201, ctx.sim.render.git_tag(repo, sha))


@op("git/get-tag")
def get_tag(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.git_tag(ctx.repo(), ctx.params["tag_sha"]))


# -- issues, comments, labels, reactions -----------------------------------------------------
@op("issues/get")
def get_issue(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    return Response(
        200,
        ctx.sim.render.issue(ctx.sim.issue(repo.full_name, ctx.params["issue_number"], api=True)),
    )


@op("issues/list-for-repo")
def list_issues(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    state = ctx.query.get("state", "open")
    wanted = [x for x in ctx.query.get("labels", "").split(",") if x]
    creator = ctx.query.get("creator")
    items = [
        i
        for i in sim.issues(repo.full_name)
        if (state == "all" or i.state == state)
        and all(w in i.labels for w in wanted)
        and (creator is None or i.user.lower() == creator.lower())
    ]
    items.sort(key=lambda i: i.number, reverse=ctx.query.get("direction", "desc") == "desc")
    return _paginate(ctx, items, sim.render.issue)


@op("issues/create")
def create_issue(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    login = ctx.need_login()
    if not str(body.get("title") or "").strip():
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Issue", "field": "title", "code": "missing_field"}],
        )
    labels = [x if isinstance(x, str) else x.get("name", "") for x in body.get("labels") or []]
    number = sim.create_issue(
        repo.full_name, str(body["title"]), body.get("body"), user=login, labels=labels
    )
    return Response(201, sim.render.issue(sim.issue(repo.full_name, number)))


@op("issues/update")
def update_issue(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    login = ctx.need_login()
    issue = sim.issue(repo.full_name, ctx.params["issue_number"], api=True)
    if "title" in body and body["title"] is not None:
        issue.title = str(body["title"])
    if "body" in body:
        issue.body = body["body"]
    if body.get("labels") is not None:
        wanted = [x if isinstance(x, str) else x["name"] for x in body["labels"]]
        issue.labels = [n for n in issue.labels if n in wanted]
        sim.add_labels(
            repo.full_name,
            issue.number,
            [x if isinstance(x, str) else x["name"] for x in body["labels"]],
            user=login,
        )
    if body.get("state") in {"open", "closed"}:
        sim.set_issue_state(
            repo.full_name, issue.number, body["state"], user=login, reason=body.get("state_reason")
        )
    issue.updated_at = sim.now_iso()
    return Response(200, sim.render.issue(issue))


@op("issues/list-comments")
def list_comments(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    issue = sim.issue(repo.full_name, ctx.params["issue_number"], api=True)
    items = [sim.comments[i] for i in issue.comment_ids if i in sim.comments]
    if ctx.query.get("since"):
        items = [c for c in items if c.updated_at >= ctx.query["since"]]
    return _paginate(ctx, items, sim.render.comment)


@op("issues/create-comment")
def create_comment(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    login = ctx.need_login()
    issue = sim.issue(repo.full_name, ctx.params["issue_number"], api=True)
    body = ctx.body["body"]
    if len(body) > 65536:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": "body is too long (maximum is 65536 characters)",
                }
            ],
        )
    return Response(201, sim.render.comment(sim._create_comment(repo, issue, body, login)))


def _comment(ctx: RequestContext):
    repo = ctx.repo()
    comment = ctx.sim.comments.get(ctx.params["comment_id"])
    if comment is None or comment.repo != repo.full_name:
        raise ApiError(404, "Not Found")
    return comment


@op("issues/get-comment")
def get_comment(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.comment(_comment(ctx)))


@op("issues/update-comment")
def update_comment(ctx: RequestContext) -> Response:
    comment = _comment(ctx)
    login = ctx.need_login()
    if (
        comment.user != login
        and PERMISSION_RANK[ctx.sim.permission(ctx.repo(), login)] < PERMISSION_RANK["write"]
    ):
        raise ApiError(403, "Resource not accessible by integration")
    if len(ctx.body["body"]) > 65536:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": "body is too long (maximum is 65536 characters)",
                }
            ],
        )
    ctx.sim._edit_comment(comment, ctx.body["body"], login)
    return Response(200, ctx.sim.render.comment(comment))


@op("issues/delete-comment")
def delete_comment(ctx: RequestContext) -> Response:
    comment = _comment(ctx)
    del ctx.sim.comments[comment.id]
    return Response(204)


def _react(ctx: RequestContext, reactions: list[Reaction]) -> Response:
    login = ctx.need_login()
    content = ctx.body["content"]
    for r in reactions:
        if r.user == login and r.content == content:
            return Response(200, ctx.sim.render.reaction(r))
    reaction = Reaction(ctx.sim.next_id(), login, content, ctx.sim.now_iso())
    reactions.append(reaction)
    return Response(201, ctx.sim.render.reaction(reaction))


@op("reactions/create-for-issue-comment")
def react_comment(ctx: RequestContext) -> Response:
    return _react(ctx, _comment(ctx).reactions)


@op("reactions/list-for-issue-comment")
def list_comment_reactions(ctx: RequestContext) -> Response:
    items = [r for r in _comment(ctx).reactions if ctx.query.get("content") in (None, r.content)]
    return _paginate(ctx, items, ctx.sim.render.reaction)


@op("reactions/create-for-issue")
def react_issue(ctx: RequestContext) -> Response:
    issue = ctx.sim.issue(ctx.repo().full_name, ctx.params["issue_number"], api=True)
    return _react(ctx, issue.reactions)


@op("issues/add-labels")
def add_labels(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    issue = sim.issue(repo.full_name, ctx.params["issue_number"], api=True)
    body = ctx.body
    names = body.get("labels", []) if isinstance(body, dict) else body
    names = [n if isinstance(n, str) else n["name"] for n in names]
    sim.add_labels(repo.full_name, issue.number, names, user=ctx.need_login())
    return Response(200, [sim.render.label(repo, repo.labels[n]) for n in issue.labels])


@op("issues/remove-label")
def remove_label(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    issue = sim.issue(repo.full_name, ctx.params["issue_number"], api=True)
    if ctx.params["name"] not in issue.labels:
        raise ApiError(404, "Label does not exist")
    issue.labels.remove(ctx.params["name"])
    sim._announce_issue(
        repo,
        issue,
        "unlabeled",
        ctx.need_login(),
        label=sim.render.label(repo, repo.labels[ctx.params["name"]]),
    )
    return Response(200, [sim.render.label(repo, repo.labels[n]) for n in issue.labels])


@op("issues/list-labels-for-repo")
def list_labels(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    return _paginate(ctx, list(repo.labels.values()), lambda lb: ctx.sim.render.label(repo, lb))


@op("issues/get-label")
def get_label(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    label = repo.labels.get(ctx.params["name"])
    if label is None:
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.label(repo, label))


@op("issues/create-label")
def create_label(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    if body["name"] in repo.labels:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Label", "code": "already_exists", "field": "name"}],
        )
    label = ctx.sim.ensure_label(repo, body["name"])
    label.color = body.get("color", label.color).lstrip("#")
    label.description = body.get("description")
    return Response(201, ctx.sim.render.label(repo, label))


# -- pulls and reviews -----------------------------------------------------------------------
def _pull(ctx: RequestContext):
    issue = ctx.sim.issue(ctx.repo().full_name, ctx.params["pull_number"], api=True)
    if issue.pull is None:
        raise ApiError(404, "Not Found")
    return issue


@op("pulls/get")
def get_pull(ctx: RequestContext) -> Response:
    return Response(200, ctx.sim.render.pull(_pull(ctx)))


@op("pulls/list")
def list_pulls(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    state = ctx.query.get("state", "open")
    head = ctx.query.get("head")
    base = ctx.query.get("base")
    items = []
    for issue in sim.issues(repo.full_name):
        p = issue.pull
        if p is None or (state != "all" and issue.state != state):
            continue
        if head and head != f"{sim.repo(p.head_repo).owner}:{p.head_ref}":
            continue
        if base and base != p.base_ref:
            continue
        items.append(issue)
    items.sort(key=lambda i: i.number, reverse=True)
    return _paginate(ctx, items, lambda i: _simple_pull(ctx, i))


def _simple_pull(ctx: RequestContext, issue) -> dict[str, Any]:
    full = ctx.sim.render.pull(issue)
    skeleton = ctx.sim.spec.skeleton("/components/schemas/pull-request-simple")
    return {
        k: full.get(k, v)
        for k, v in {**skeleton, **full}.items()
        if k in skeleton or k in {"draft", "auto_merge", "active_lock_reason", "author_association"}
    }


@op("pulls/create")
def create_pull(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    login = ctx.need_login()
    head = body.get("head", "")
    head_repo = None
    if ":" in head:
        owner, head = head.split(":", 1)
        if owner.lower() != repo.owner.lower():
            head_repo = f"{owner}/{repo.name}"
    number = sim.open_pr(
        repo.full_name,
        head,
        user=login,
        title=body.get("title") or head,
        body=body.get("body"),
        base=body["base"],
        head_repo=head_repo,
        draft=bool(body.get("draft")),
    )
    return Response(201, sim.render.pull(sim.issue(repo.full_name, number)))


@op("pulls/update")
def update_pull(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    issue = _pull(ctx)
    if body.get("title"):
        issue.title = body["title"]
    if "body" in body:
        issue.body = body["body"]
    if body.get("state") in {"open", "closed"}:
        sim.set_issue_state(repo.full_name, issue.number, body["state"], user=ctx.need_login())
    return Response(200, sim.render.pull(issue))


@op("pulls/merge")
def merge_pull(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    body = ctx.body or {}
    issue = _pull(ctx)
    assert issue.pull is not None
    if body.get("sha") and body["sha"] != issue.pull.head_sha:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    if PERMISSION_RANK[sim.permission(repo, ctx.need_login())] < PERMISSION_RANK["write"]:
        raise ApiError(403, "Resource not accessible by integration")
    message = body.get("commit_title") or None
    sha = sim.merge_pr(
        repo.full_name,
        issue.number,
        user=ctx.need_login(),
        method=body.get("merge_method", "merge"),
        message=message,
    )
    return Response(
        200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
    )


@op("pulls/list-reviews")
def list_reviews(ctx: RequestContext) -> Response:
    sim = ctx.sim
    issue = _pull(ctx)
    items = sorted(
        (r for r in sim.reviews.values() if r.repo == issue.repo and r.number == issue.number),
        key=lambda r: r.id,
    )
    return _paginate(ctx, items, sim.render.review)


@op("pulls/get-review")
def get_review(ctx: RequestContext) -> Response:
    issue = _pull(ctx)
    review = ctx.sim.reviews.get(ctx.params["review_id"])
    if review is None or review.number != issue.number or review.repo != issue.repo:
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.review(review))


@op("pulls/create-review")
def create_review(ctx: RequestContext) -> Response:
    sim, body = ctx.sim, ctx.body or {}
    issue = _pull(ctx)
    login = ctx.need_login()
    event = body.get("event")
    if event is None:
        raise ApiError(422, "Pending reviews are not supported by the simulator")
    state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}[
        event
    ]
    assert issue.pull is not None
    if login == issue.user and state != "COMMENTED":
        raise ApiError(422, "Unprocessable Entity", ["Can not approve your own pull request"])
    review_id = sim.submit_review(
        issue.repo,
        issue.number,
        user=login,
        state=state,
        body=body.get("body", ""),
        commit_id=body.get("commit_id"),
    )
    return Response(200, sim.render.review(sim.reviews[review_id]))


@op("pulls/dismiss-review")
def dismiss_review(ctx: RequestContext) -> Response:
    sim = ctx.sim
    issue = _pull(ctx)
    review: Review | None = sim.reviews.get(ctx.params["review_id"])
    if review is None or review.number != issue.number or review.repo != issue.repo:
        raise ApiError(404, "Not Found")
    sim.dismiss_review(review.id, user=ctx.need_login(), message=ctx.body["message"])
    return Response(200, sim.render.review(review))


# -- permissions and teams -------------------------------------------------------------------
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
    return _paginate(ctx, members, ctx.sim.render.user)


@op("teams/get-membership-for-user-in-org")
def team_membership(ctx: RequestContext) -> Response:
    team = _team(ctx)
    login = ctx.params["username"]
    role = next((r for m, r in team.members.items() if m.lower() == login.lower()), None)
    if role is None:
        raise ApiError(404, "Not Found")
    url = f"{ctx.sim.url}/orgs/{team.org}/teams/{team.slug}/memberships/{login}"
    return Response(200, {"url": url, "role": role, "state": "active"})


# -- checks and statuses ---------------------------------------------------------------------
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
    sha = _resolve(ctx, ctx.params["ref"])
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
    page = _paginate(ctx, runs, sim.render.check_run)
    return Response(200, {"total_count": len(runs), "check_runs": page.body}, page.headers)


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
    sha = _resolve(ctx, ctx.params["ref"])
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


def _simple_status(sim: GitHubSimulator, s: CommitStatus) -> dict[str, Any]:
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
    sha = _resolve(ctx, ctx.params["ref"])
    items = [s for s in reversed(sim.statuses) if s.repo == repo.full_name and s.sha == sha]
    return _paginate(ctx, items, sim.render.status)


# -- actions ---------------------------------------------------------------------------------
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
    page = _paginate(ctx, runs, sim.render.workflow_run)
    return Response(200, {"total_count": len(runs), "workflow_runs": page.body}, page.headers)


@op("actions/list-workflow-run-artifacts")
def list_run_artifacts(ctx: RequestContext) -> Response:
    sim = ctx.sim
    run = _run(ctx)
    arts = [sim.artifacts[i] for i in run.artifact_ids]
    if ctx.query.get("name"):
        arts = [a for a in arts if a.name == ctx.query["name"]]
    page = _paginate(ctx, arts, sim.render.artifact)
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


# -- identity, organizations, rate limits ----------------------------------------------------
@op("users/get-authenticated")
def get_authenticated_user(ctx: RequestContext) -> Response:
    if ctx.token is not None and ctx.token.installation_id is not None:
        # As on GitHub: an installation token has no user; the App learns its slug from GET /app.
        raise ApiError(403, "Resource not accessible by integration")
    sim = ctx.sim
    out = sim.spec.skeleton("/components/schemas/public-user")
    out.update(sim.render.user(ctx.need_login()))
    out.update(created_at=sim.now_iso(), updated_at=sim.now_iso())
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


@op("rate-limit/get")
def get_rate_limit(ctx: RequestContext) -> Response:
    sim = ctx.sim
    reset = int(sim.rate_limit_reset or time.time() + 3600)
    core = {
        "limit": 5000,
        "remaining": sim.rate_limit_remaining,
        "reset": reset,
        "used": 5000 - sim.rate_limit_remaining,
    }
    search = {"limit": 30, "remaining": 30, "reset": reset, "used": 0}
    return Response(200, {"rate": core, "resources": {"core": core, "search": search}})


# -- more of pulls, issues and labels ---------------------------------------------------------
@op("pulls/list-files")
def list_pull_files(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    issue = _pull(ctx)
    assert issue.pull is not None
    store = repo.store
    head = store.repo.get(issue.pull.head_sha)
    base_sha = store.repo.merge_base(head.id, pygit2.Oid(hex=issue.pull.base_sha))
    base = store.repo.get(base_sha) if base_sha else None
    diff = store.repo.diff(base.tree if base else None, head.tree)
    diff.find_similar()
    status_names = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied"}
    files = []
    for patch in diff:
        delta = patch.delta
        path = delta.new_file.path
        head_sha = issue.pull.head_sha
        _context, additions, deletions = patch.line_stats
        entry = {
            "sha": str(delta.new_file.id if delta.status_char() != "D" else delta.old_file.id),
            "filename": path,
            "status": status_names.get(delta.status_char(), "changed"),
            "additions": additions,
            "deletions": deletions,
            "changes": additions + deletions,
            "blob_url": f"{sim.url}/_web/{repo.full_name}/blob/{head_sha}/{path}",
            "raw_url": f"{sim.url}/_web/{repo.full_name}/raw/{head_sha}/{path}",
            "contents_url": f"{sim.url}/repos/{repo.full_name}/contents/{path}?ref={head_sha}",
            "patch": patch.text.split("\n", 4)[-1] if patch.text else "",
        }
        if delta.status_char() == "R":
            entry["previous_filename"] = delta.old_file.path
        files.append(entry)
    return _paginate(ctx, files, lambda f: f)


@op("repos/list-pull-requests-associated-with-commit")
def pulls_for_commit(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    sha = ctx.params["commit_sha"]
    items = [
        i
        for i in sim.issues(repo.full_name)
        if i.pull is not None and (i.pull.head_sha == sha or i.pull.merge_commit_sha == sha)
    ]
    return _paginate(ctx, items, lambda i: _simple_pull(ctx, i))


@op("reactions/list-for-issue")
def list_issue_reactions(ctx: RequestContext) -> Response:
    issue = ctx.sim.issue(ctx.repo().full_name, ctx.params["issue_number"], api=True)
    items = [r for r in issue.reactions if ctx.query.get("content") in (None, r.content)]
    return _paginate(ctx, items, ctx.sim.render.reaction)


@op("issues/set-labels")
def set_labels(ctx: RequestContext) -> Response:
    sim, repo = ctx.sim, ctx.repo()
    issue = sim.issue(repo.full_name, ctx.params["issue_number"], api=True)
    body = ctx.body or {}
    names = body.get("labels", []) if isinstance(body, dict) else body
    names = [n if isinstance(n, str) else n["name"] for n in names]
    issue.labels = [n for n in issue.labels if n in names]
    sim.add_labels(repo.full_name, issue.number, names, user=ctx.need_login())
    return Response(200, [sim.render.label(repo, repo.labels[n]) for n in issue.labels])
