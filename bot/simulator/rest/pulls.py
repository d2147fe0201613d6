"""Pull requests, their files, and reviews."""

from __future__ import annotations

import pygit2

from bot.simulator.pagination import paginate
from bot.simulator.permissions import has_role
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import Review


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
    return paginate(ctx, items, lambda i: ctx.sim.render.pull_simple(i))


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
    if not has_role(ctx, "triage") and ctx.need_login().lower() != issue.user.lower():
        raise ApiError(403, "Resource not accessible by integration")
    changes: dict[str, dict[str, str | None]] = {}
    if body.get("title") and body["title"] != issue.title:
        changes["title"] = {"from": issue.title}
        issue.title = body["title"]
    if "body" in body and body["body"] != issue.body:
        changes["body"] = {"from": issue.body}
        issue.body = body["body"]
    if changes:
        issue.updated_at = sim.now_iso()
        sim._announce_issue(repo, issue, "edited", ctx.need_login(), changes=changes)
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
    if not has_role(ctx, "write"):
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
    return paginate(ctx, items, sim.render.review)


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
    if login.lower() == issue.user.lower() and state != "COMMENTED":
        verb = "approve" if state == "APPROVED" else "request changes on"
        raise ApiError(422, "Unprocessable Entity", [f"Can not {verb} your own pull request"])
    if state != "APPROVED" and not str(body.get("body") or "").strip():
        # GitHub's rule: REQUEST_CHANGES and COMMENT need a body.
        raise ApiError(
            422,
            "Unprocessable Entity",
            [f"Review body is required when the event is {event}"],
        )
    commit_id = body.get("commit_id")
    if commit_id is not None and ctx.repo().store.resolve(commit_id, "") is None:
        raise ApiError(422, "Unprocessable Entity", ["No commit found for SHA: " + commit_id])
    review_id = sim.submit_review(
        issue.repo,
        issue.number,
        user=login,
        state=state,
        body=body.get("body", ""),
        commit_id=commit_id,
    )
    return Response(200, sim.render.review(sim.reviews[review_id]))


@op("pulls/dismiss-review")
def dismiss_review(ctx: RequestContext) -> Response:
    sim = ctx.sim
    issue = _pull(ctx)
    review: Review | None = sim.reviews.get(ctx.params["review_id"])
    if review is None or review.number != issue.number or review.repo != issue.repo:
        raise ApiError(404, "Not Found")
    if review.state not in {"APPROVED", "CHANGES_REQUESTED"}:
        # As GitHub: only a verdict can be dismissed, not a comment or an earlier dismissal.
        raise ApiError(422, f"Can not dismiss a {review.state.lower()} pull request review")
    sim.dismiss_review(review.id, user=ctx.need_login(), message=ctx.body["message"])
    return Response(200, sim.render.review(review))


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
    return paginate(ctx, files, lambda f: f)
