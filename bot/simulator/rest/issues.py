"""Issues, issue comments, labels and reactions."""

from __future__ import annotations

import re

from bot.simulator.pagination import paginate
from bot.simulator.permissions import has_role
from bot.simulator.request import ApiError, RequestContext, Response
from bot.simulator.routes import op
from bot.simulator.state import Reaction


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
    return paginate(ctx, items, sim.render.issue)


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
    if not has_role(ctx, "triage"):
        labels = []  # as on GitHub: labels from someone without triage are silently dropped
    number = sim.create_issue(
        repo.full_name, str(body["title"]), body.get("body"), user=login, labels=labels
    )
    return Response(201, sim.render.issue(sim.issue(repo.full_name, number)))


@op("issues/update")
def update_issue(ctx: RequestContext) -> Response:
    sim, repo, body = ctx.sim, ctx.repo(), ctx.body
    login = ctx.need_login()
    issue = sim.issue(repo.full_name, ctx.params["issue_number"], api=True)
    triage = has_role(ctx, "triage")
    if not triage and login.lower() != issue.user.lower():
        raise ApiError(403, "Resource not accessible by integration")
    changes: dict[str, dict[str, str | None]] = {}
    if "title" in body and body["title"] is not None and str(body["title"]) != issue.title:
        changes["title"] = {"from": issue.title}
        issue.title = str(body["title"])
    if "body" in body and body["body"] != issue.body:
        changes["body"] = {"from": issue.body}
        issue.body = body["body"]
    if changes:
        issue.updated_at = sim.now_iso()
        sim._announce_issue(repo, issue, "edited", login, changes=changes)
    if body.get("labels") is not None and triage:
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
    return paginate(ctx, items, sim.render.comment)


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
    if comment.user.lower() != login.lower() and not has_role(ctx, "write"):
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
    if comment.user.lower() != ctx.need_login().lower() and not has_role(ctx, "write"):
        raise ApiError(403, "Resource not accessible by integration")
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
    return paginate(ctx, items, ctx.sim.render.reaction)


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
    return paginate(ctx, list(repo.labels.values()), lambda lb: ctx.sim.render.label(repo, lb))


@op("issues/get-label")
def get_label(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    label = repo.labels.get(ctx.params["name"])
    if label is None:
        raise ApiError(404, "Not Found")
    return Response(200, ctx.sim.render.label(repo, label))


def _color(body: dict) -> str | None:
    """The label colour GitHub accepts: six hex digits, with or without a leading #."""
    if "color" not in body:
        return None
    color = str(body["color"]).lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
        raise ApiError(
            422, "Validation Failed", [{"resource": "Label", "code": "invalid", "field": "color"}]
        )
    return color


@op("issues/update-label")
def update_label(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body or {}
    label = repo.labels.get(ctx.params["name"])
    if label is None:
        raise ApiError(404, "Not Found")
    color = _color(body)
    new_name = body.get("new_name")
    if new_name and new_name != label.name:
        if new_name in repo.labels:
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "Label", "code": "already_exists", "field": "name"}],
            )
        del repo.labels[label.name]
        for issue in ctx.sim.issues(repo.full_name):
            issue.labels = [new_name if n == label.name else n for n in issue.labels]
        label.name = new_name
        repo.labels[new_name] = label
    if color is not None:
        label.color = color
    if "description" in body:
        label.description = body["description"]
    label.updated_at = ctx.sim.now()
    return Response(200, ctx.sim.render.label(repo, label))


@op("issues/delete-label")
def delete_label(ctx: RequestContext) -> Response:
    repo = ctx.repo()
    label = repo.labels.pop(ctx.params["name"], None)
    if label is None:
        raise ApiError(404, "Not Found")
    for issue in ctx.sim.issues(repo.full_name):
        issue.labels = [n for n in issue.labels if n != label.name]
    return Response(204)


@op("issues/create-label")
def create_label(ctx: RequestContext) -> Response:
    repo, body = ctx.repo(), ctx.body
    if body["name"] in repo.labels:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Label", "code": "already_exists", "field": "name"}],
        )
    color = _color(body) or "ededed"
    label = ctx.sim.ensure_label(repo, body["name"])
    label.color = color
    label.description = body.get("description")
    label.updated_at = ctx.sim.now()
    return Response(201, ctx.sim.render.label(repo, label))


@op("reactions/list-for-issue")
def list_issue_reactions(ctx: RequestContext) -> Response:
    issue = ctx.sim.issue(ctx.repo().full_name, ctx.params["issue_number"], api=True)
    items = [r for r in issue.reactions if ctx.query.get("content") in (None, r.content)]
    return paginate(ctx, items, ctx.sim.render.reaction)


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
