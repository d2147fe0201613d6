"""The simulator's non-git state: people, repositories, issues, reviews, runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.simulator.bare_repo import BareRepo

PERMISSION_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
# An App's permission levels, weakest first (anything else grants nothing).
ACCESS_LEVEL = {"read": 1, "write": 2, "admin": 3}


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User, Bot, Organization
    created_at: str = ""

    @property
    def email(self) -> str:
        return f"{self.id}+{self.login}@users.noreply.example.test"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    updated_at: float = 0.0  # epoch seconds, for Last-Modified


@dataclass
class Reaction:
    id: int
    user: str
    content: str
    created_at: str


@dataclass
class Comment:
    id: int
    repo: str
    issue_number: int
    user: str
    body: str
    created_at: str
    updated_at: str
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class PullInfo:
    head_repo: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None


@dataclass
class Issue:
    repo: str
    number: int
    id: int
    title: str
    body: str | None
    user: str
    created_at: str
    updated_at: str
    state: str = "open"
    state_reason: str | None = None
    closed_at: str | None = None
    labels: list[str] = field(default_factory=list)
    comment_ids: list[int] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    pull: PullInfo | None = None


@dataclass
class Review:
    id: int
    repo: str
    number: int
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    body: str
    commit_id: str
    submitted_at: str


@dataclass
class CheckRun:
    id: int
    repo: str
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: str
    completed_at: str | None
    app_slug: str
    output: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    details_url: str | None = None
    actions: list[dict[str, str]] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Deployment:
    id: int
    repo: str
    sha: str
    ref: str
    task: str
    environment: str
    payload: dict[str, Any] | str
    description: str | None
    creator: str
    created_at: str
    production_environment: bool
    transient_environment: bool
    # Newest last; each {id, state, description, log_url, environment_url, creator, created_at}.
    statuses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Environment:
    id: int
    repo: str
    name: str
    created_at: str
    # App slugs enabled as custom deployment protection rules on this environment.
    protection_apps: list[str] = field(default_factory=list)


@dataclass
class GateRequest:
    """A job waiting on an environment's custom protection rules, and the answers given."""

    run_id: int
    repo: str
    environment: str
    sha: str
    ref: str
    deployment_id: int | None
    # (app slug, state, comment) per answer, in order.
    reviews: list[tuple[str, str, str | None]] = field(default_factory=list)


@dataclass
class CommitStatus:
    id: int
    repo: str
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    created_at: str
    creator: str


@dataclass
class Artifact:
    id: int
    repo: str
    run_id: int
    name: str
    data: bytes
    created_at: str
    expires_at: str
    expired: bool = False


@dataclass
class WorkflowRun:
    id: int
    repo: str
    name: str
    path: str
    workflow_id: int
    head_sha: str
    head_branch: str
    head_repo: str
    event: str
    actor: str
    run_number: int
    created_at: str
    updated_at: str
    status: str = "queued"
    conclusion: str | None = None
    pull_numbers: list[int] = field(default_factory=list)
    artifact_ids: list[int] = field(default_factory=list)


@dataclass
class Team:
    id: int
    org: str
    slug: str
    name: str
    members: dict[str, str] = field(default_factory=dict)  # login -> member/maintainer


@dataclass
class Installation:
    id: int
    account: str
    repos: list[str] | None  # None: every repository of the account
    permissions: dict[str, str]
    events: list[str]
    suspended: bool = False
    created_at: str = ""


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    private_key_pem: str
    public_key_pem: str
    created_at: str = ""


@dataclass
class Token:
    value: str
    login: str
    installation_id: int | None = None
    expires_at: float | None = None
    # An installation token may be narrowed when it is made: fewer repositories (full
    # names) or permissions than its installation has. None: the installation's.
    repos: list[str] | None = None
    permissions: dict[str, str] | None = None


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    store: BareRepo
    default_branch: str = "main"
    private: bool = False
    fork_of: str | None = None
    collaborators: dict[str, str] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    created_at: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"
