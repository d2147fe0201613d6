"""Typed, tolerant models of the webhook payloads the bot subscribes to.

Tolerant: unknown fields are kept (`extra="allow"`) and most fields are
optional, because GitHub adds fields over time and omits some on some
actions; the bot must not drop a delivery for that. Only what an event means
nothing without is required (an issue_comment without its comment, a push
without its ref): such a payload is refused with 400 when it arrives.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.incidents.alerts import ALERT_EVENT, Alert


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class User(Model):
    login: str
    id: int | None = None
    type: str | None = None  # "User", "Bot", "Organization"


class Owner(Model):
    login: str | None = None
    id: int | None = None
    type: str | None = None


class Repository(Model):
    id: int
    name: str
    full_name: str
    owner: Owner | None = None
    private: bool | None = None
    fork: bool | None = None
    default_branch: str | None = None
    html_url: str | None = None


class Installation(Model):
    id: int
    account: Owner | None = None
    app_id: int | None = None


class Label(Model):
    name: str
    id: int | None = None
    color: str | None = None


class IssuePullRequestLink(Model):
    url: str | None = None
    html_url: str | None = None
    merged_at: str | None = None


class Issue(Model):
    number: int
    id: int | None = None
    title: str | None = None
    body: str | None = None
    state: str | None = None
    user: User | None = None
    labels: list[Label] = Field(default_factory=list)
    pull_request: IssuePullRequestLink | None = None
    html_url: str | None = None

    @property
    def is_pull_request(self) -> bool:
        """Comments on pull requests arrive as issue comments on an issue with this link."""
        return self.pull_request is not None


class Comment(Model):
    id: int
    body: str | None = None
    user: User | None = None
    author_association: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    html_url: str | None = None


class Ref(Model):
    ref: str
    sha: str
    label: str | None = None
    user: User | None = None
    repo: Repository | None = None  # None when the fork was deleted


class PullRequest(Model):
    number: int
    id: int | None = None
    state: str | None = None
    title: str | None = None
    body: str | None = None
    user: User | None = None
    head: Ref
    base: Ref
    draft: bool | None = None
    merged: bool | None = None
    merge_commit_sha: str | None = None
    labels: list[Label] = Field(default_factory=list)
    html_url: str | None = None

    @property
    def from_fork(self) -> bool:
        head_repo = self.head.repo
        return head_repo is None or head_repo.id != (self.base.repo.id if self.base.repo else None)


class Review(Model):
    id: int
    state: str | None = None  # "approved", "changes_requested", "commented", "dismissed"
    user: User | None = None
    commit_id: str | None = None
    body: str | None = None
    submitted_at: str | None = None
    author_association: str | None = None


class PullRequestRef(Model):
    """The short pull request objects inside workflow runs and check suites."""

    number: int
    id: int | None = None
    head: dict[str, Any] | None = None
    base: dict[str, Any] | None = None


class WorkflowRun(Model):
    id: int
    name: str | None = None
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    event: str | None = None
    path: str | None = None
    workflow_id: int | None = None
    run_number: int | None = None
    run_attempt: int | None = None
    html_url: str | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)
    head_repository: Repository | None = None


class CheckSuite(Model):
    id: int
    head_sha: str
    head_branch: str | None = None
    status: str | None = None
    conclusion: str | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)
    app: dict[str, Any] | None = None


class CheckRun(Model):
    id: int
    name: str
    head_sha: str
    status: str | None = None
    conclusion: str | None = None
    external_id: str | None = None
    html_url: str | None = None
    app: dict[str, Any] | None = None
    pull_requests: list[PullRequestRef] = Field(default_factory=list)
    check_suite: CheckSuite | None = None


class RequestedAction(Model):
    identifier: str


class MergeGroup(Model):
    head_sha: str
    head_ref: str
    base_sha: str | None = None
    base_ref: str | None = None


class Deployment(Model):
    id: int
    sha: str | None = None
    ref: str | None = None
    environment: str | None = None
    payload: dict[str, Any] | str | None = None


class PushCommit(Model):
    id: str
    message: str | None = None
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)


class Hook(Model):
    id: int | None = None
    type: str | None = None
    events: list[str] = Field(default_factory=list)
    app_id: int | None = None


class InstallationRepository(Model):
    id: int
    name: str | None = None
    full_name: str | None = None


# -- events -------------------------------------------------------------------


class WebhookEvent(Model):
    """What every delivery may carry; also the model of events the bot has no model for."""

    action: str | None = None
    sender: User | None = None
    repository: Repository | None = None
    installation: Installation | None = None
    organization: Owner | None = None


class IssueCommentEvent(WebhookEvent):
    action: str
    issue: Issue
    comment: Comment


class IssuesEvent(WebhookEvent):
    action: str
    issue: Issue
    label: Label | None = None


class PullRequestEvent(WebhookEvent):
    action: str
    number: int
    pull_request: PullRequest
    label: Label | None = None


class PullRequestReviewEvent(WebhookEvent):
    action: str
    review: Review
    pull_request: PullRequest


class WorkflowRunEvent(WebhookEvent):
    action: str
    workflow_run: WorkflowRun
    workflow: dict[str, Any] | None = None


class CheckSuiteEvent(WebhookEvent):
    action: str
    check_suite: CheckSuite


class CheckRunEvent(WebhookEvent):
    action: str
    check_run: CheckRun
    requested_action: RequestedAction | None = None


class MergeGroupEvent(WebhookEvent):
    action: str
    merge_group: MergeGroup


class DeploymentProtectionRuleEvent(WebhookEvent):
    """A deploy job waits on mlbot: judged, then answered through `deployment_callback_url`."""

    action: str
    environment: str
    event: str | None = None
    sha: str | None = None
    ref: str | None = None
    deployment_callback_url: str
    deployment: Deployment | None = None
    pull_requests: list[dict[str, Any]] = Field(default_factory=list)


class InstallationEvent(WebhookEvent):
    action: str
    installation: Installation
    repositories: list[InstallationRepository] | None = None


class PingEvent(WebhookEvent):
    zen: str | None = None
    hook_id: int | None = None
    hook: Hook | None = None


class PushEvent(WebhookEvent):
    ref: str
    before: str | None = None
    after: str | None = None
    created: bool | None = None
    deleted: bool | None = None
    forced: bool | None = None
    commits: list[PushCommit] = Field(default_factory=list)
    head_commit: PushCommit | None = None
    pusher: dict[str, Any] | None = None


class AlertEvent(WebhookEvent):
    """Not GitHub's: one Alertmanager alert, as `POST /alerts` stores it (`bot.incidents`)."""

    alert: Alert
    groupKey: str
    receiver: str = ""
    externalURL: str = ""


EVENT_MODELS: dict[str, type[WebhookEvent]] = {
    "issue_comment": IssueCommentEvent,
    "issues": IssuesEvent,
    "pull_request": PullRequestEvent,
    "pull_request_review": PullRequestReviewEvent,
    "workflow_run": WorkflowRunEvent,
    "check_suite": CheckSuiteEvent,
    "check_run": CheckRunEvent,
    "merge_group": MergeGroupEvent,
    "deployment_protection_rule": DeploymentProtectionRuleEvent,
    "installation": InstallationEvent,
    "ping": PingEvent,
    "push": PushEvent,
    ALERT_EVENT: AlertEvent,
}


def model_for(event: str) -> type[WebhookEvent]:
    """The payload model of an event; the generic one for events without a model."""
    return EVENT_MODELS.get(event, WebhookEvent)


def parse(event: str, body: bytes) -> WebhookEvent:
    """Validate a raw body as the payload of this event (pydantic.ValidationError if not)."""
    return model_for(event).model_validate_json(body)


def check(event: str, body: bytes) -> WebhookEvent:
    """Validate as `parse` does, keeping only the fields the models name.

    The same verdict as `parse` (unknown fields are never refused, only not
    kept), at a third of the cost: the webhook endpoint uses it to refuse a bad
    payload before storing it; the worker parses the stored body in full.
    """
    return model_for(event).model_validate_json(body, extra="ignore")
