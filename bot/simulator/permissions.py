"""Who may do what: installation coverage and permissions, and collaborator roles.

GitHub refuses what a caller may not do before anything happens; so does the
simulator, in the pipeline, before the handler runs:

- an installation token works only on the repositories its installation covers: on
  any other it may read public ones, and gets 404 for everything else;
- an installation token needs the permission its operation belongs to (`issues`,
  `contents`…; read for GET, write otherwise) or gets 403 "Resource not accessible
  by integration";
- a user needs a role on the repository: read to see a private one (404 otherwise),
  write to change it, except what any reader may do (open issues and pull requests,
  comment, react, review) and what triage may do (labels); refused with 404 as GitHub
  does for repositories a user cannot change.

Operations missing from the tables below are not checked: add a row with a new
resource family.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.simulator.request import ApiError
from bot.simulator.state import ACCESS_LEVEL, PERMISSION_RANK, Repo

if TYPE_CHECKING:
    from bot.simulator.request import RequestContext

READ_METHODS = {"GET", "HEAD"}

# Installation permission by operationId, or by the prefix before its "/".
_BY_PREFIX = {
    "issues": "issues",
    "reactions": "issues",
    "pulls": "pull_requests",
    "checks": "checks",
    "git": "contents",
    "actions": "actions",
    "teams": "members",
}
_BY_OPERATION = {
    "repos/get": "metadata",
    "repos/get-collaborator-permission-level": "metadata",
    "repos/get-content": "contents",
    "repos/create-or-update-file-contents": "contents",
    "repos/get-branch": "contents",
    "repos/get-commit": "contents",
    "repos/list-commits": "contents",
    "repos/list-pull-requests-associated-with-commit": "contents",
    "pulls/merge": "contents",
    "repos/create-deployment": "deployments",
    "repos/list-deployments": "deployments",
    "repos/get-deployment": "deployments",
    "repos/create-deployment-status": "deployments",
    "repos/list-deployment-statuses": "deployments",
    "repos/get-deployment-status": "deployments",
    # The callback of a custom deployment protection rule is the App's `deployments` side.
    "actions/review-custom-gates-for-run": "deployments",
    "repos/create-commit-status": "statuses",
    "repos/get-combined-status-for-ref": "statuses",
    "repos/list-commit-statuses-for-ref": "statuses",
}
# What a signed-in user with only read access may still do on a repository.
_READER_WRITES = {
    "issues/create",
    "issues/create-comment",
    "issues/update-comment",  # the handler allows only the author or a writer
    "issues/delete-comment",  # likewise
    "issues/update",  # the author may edit; the handler keeps the rest to triage
    "pulls/create",
    "pulls/update",
    "pulls/create-review",
    "reactions/create-for-issue",
    "reactions/create-for-issue-comment",
}
_TRIAGE_WRITES = {"issues/add-labels", "issues/set-labels", "issues/remove-label"}


def installation_permission(operation_id: str, method: str) -> tuple[str, str] | None:
    """(permission, "read" or "write") an installation token needs, or None if unchecked."""
    name = _BY_OPERATION.get(operation_id) or _BY_PREFIX.get(operation_id.split("/")[0])
    if name is None:
        return None
    if name == "metadata":
        return name, "read"
    return name, "read" if method in READ_METHODS else "write"


def role_needed(operation_id: str, method: str) -> str:
    """The least role a user needs on the repository for this operation."""
    if method in READ_METHODS or operation_id in _READER_WRITES:
        return "read"
    if operation_id in _TRIAGE_WRITES:
        return "triage"
    return "write"


def authorize(ctx: RequestContext, operation_id: str) -> None:
    """Refuse, as GitHub would, what this caller may not do on this request's repository."""
    if "owner" not in ctx.params or "repo" not in ctx.params:
        return
    repo = ctx.repo()
    token = ctx.token
    if token is not None and token.installation_id is not None:
        _authorize_installation(ctx, repo, token.installation_id, operation_id)
    elif ctx.login is not None:
        role = ctx.sim.permission(repo, ctx.login)
        if PERMISSION_RANK[role] < PERMISSION_RANK[role_needed(operation_id, ctx.method)]:
            raise ApiError(404, "Not Found")


def _authorize_installation(
    ctx: RequestContext, repo: Repo, installation_id: int, operation_id: str
) -> None:
    sim = ctx.sim
    inst = sim.installations.get(installation_id)
    token = ctx.token
    assert token is not None
    covered = (
        inst is not None
        and inst.account.lower() == repo.owner.lower()
        and (inst.repos is None or repo.full_name in inst.repos)
        and (token.repos is None or repo.full_name in token.repos)
    )
    if not covered:
        if repo.private or ctx.method not in READ_METHODS:
            raise ApiError(404, "Not Found")
        return  # a public repository reads the same for everybody
    assert inst is not None
    if inst.suspended:
        raise ApiError(403, "This installation has been suspended")
    needed = installation_permission(operation_id, ctx.method)
    if needed is None:
        return
    name, level = needed
    if name == "metadata":
        return  # every installation can read metadata
    held = token.permissions if token.permissions is not None else inst.permissions
    granted = held.get(name)
    if name == "issues" and _on_pull_request(ctx):
        # Comments, labels and reactions on a pull request take either permission.
        granted = max(
            (granted, held.get("pull_requests")),
            key=lambda g: ACCESS_LEVEL.get(g or "", 0),
        )
    if ACCESS_LEVEL.get(granted or "", 0) < ACCESS_LEVEL[level]:
        raise ApiError(403, "Resource not accessible by integration")


def _on_pull_request(ctx: RequestContext) -> bool:
    sim = ctx.sim
    number = ctx.params.get("issue_number")
    if number is None and "comment_id" in ctx.params:
        comment = sim.comments.get(ctx.params["comment_id"])
        number = comment.issue_number if comment else None
    if number is None:
        return False
    issue = sim._issues.get((ctx.repo().full_name, int(number)))
    return issue is not None and issue.pull is not None


def has_role(ctx: RequestContext, role: str) -> bool:
    """Whether the caller holds `role` on the request's repository.

    An installation token's permission for the operation was already checked by
    `authorize`, and counts as the role.
    """
    if ctx.token is not None and ctx.token.installation_id is not None:
        return True
    login = ctx.need_login()
    return PERMISSION_RANK[ctx.sim.permission(ctx.repo(), login)] >= PERMISSION_RANK[role]
