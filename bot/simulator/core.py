"""The simulator: state, the Python control API, and the HTTP front door.

Every API request is matched to an operation of GitHub's OpenAPI description,
its parameters and body validated, dispatched to a handler in
`bot.simulator.api`, and the response validated against the schema GitHub
documents for that status. Anything that does not validate is recorded in
`validation_failures`, which the pytest fixture asserts empty at teardown.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import secrets
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.simulator.faults import Faults
from bot.simulator.gitstore import GitDataError, GitStore, Person
from bot.simulator.openapi import OpenAPISpec, load_spec
from bot.simulator.render import Renderer, iso
from bot.simulator.state import (
    PERMISSION_RANK,
    Artifact,
    CheckRun,
    Comment,
    CommitStatus,
    Installation,
    Issue,
    Label,
    PullInfo,
    Repo,
    Review,
    Team,
    Token,
    User,
    WorkflowRun,
)
from bot.simulator.webhooks import Delivery, WebhookSender

DOCS_URL = "https://docs.github.com/rest"
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message": self.message,
            "documentation_url": DOCS_URL,
            "status": str(self.status),
        }
        if self.errors is not None:
            out["errors"] = self.errors
        return out


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass
class ValidationFailure:
    kind: str  # request, response, webhook, route, unimplemented
    method: str
    path: str
    messages: list[str]

    def __str__(self) -> str:
        return f"{self.kind} {self.method} {self.path}: {'; '.join(self.messages)}"


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: str
    operation_id: str | None
    status: int | None
    duration: float
    login: str | None
    fault: str | None = None


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    private_key_pem: str
    public_key_pem: str


@dataclass
class RequestContext:
    sim: GitHubSimulator
    method: str
    path: str
    params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    login: str | None
    token: Token | None
    app: App | None
    url: str

    def repo(self) -> Repo:
        return self.sim.repo(f"{self.params['owner']}/{self.params['repo']}", api=True)

    def need_login(self) -> str:
        if self.login is None:
            raise ApiError(403, "Resource not accessible by integration")
        return self.login


class GitHubSimulator:
    """A test double of the GitHub REST API, not a GitHub replacement.

    Use as a context manager, or call `start()` / `stop()`. `url` is the API
    base URL to give PyGithub (`base_url`).
    """

    def __init__(
        self,
        root: Path,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        spec: OpenAPISpec | None = None,
        token_ttl: float = 3600.0,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.spec = spec or load_spec()
        self.faults = faults or Faults()
        self.token_ttl = token_ttl
        self.lock = threading.RLock()
        self.render = Renderer(self)
        self.webhooks = WebhookSender(webhook_url, webhook_secret)
        self.validation_failures: list[ValidationFailure] = []
        self.requests: list[LoggedRequest] = []
        self._ids = itertools.count(1000)
        self._clock_offset = 0.0
        self._users: dict[str, User] = {}
        self._repos: dict[str, Repo] = {}
        self._issues: dict[tuple[str, int], Issue] = {}
        self._next_number: dict[str, int] = {}
        self.comments: dict[int, Comment] = {}
        self.reviews: dict[int, Review] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.statuses: list[CommitStatus] = []
        self.workflow_runs: dict[int, WorkflowRun] = {}
        self.artifacts: dict[int, Artifact] = {}
        self.teams: dict[tuple[str, str], Team] = {}
        self.installations: dict[int, Installation] = {}
        self.apps: dict[str, App] = {}
        self.tokens: dict[str, Token] = {}
        self._installation_app: dict[int, str] = {}  # installation id -> app slug
        self._download_keys: dict[int, str] = {}
        # What X-RateLimit-Remaining / X-RateLimit-Reset announce (a client's pacing test).
        self.rate_limit_remaining = 4999
        self.rate_limit_reset: float | None = None
        self._server = _Server((host, port), _Handler)
        self._server.sim = self
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> GitHubSimulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="github-simulator",
            daemon=True,
        )
        self._thread.start()
        self.webhooks.start()
        return self

    def stop(self) -> None:
        self.webhooks.stop()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GitHubSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_webhook(self, url: str | None, secret: str | None) -> None:
        self.webhooks.url = url
        self.webhooks.secret = secret

    def wait_for_webhooks(self, timeout: float = 30.0) -> list[Delivery]:
        self.webhooks.wait(timeout)
        return list(self.webhooks.deliveries)

    def assert_valid(self) -> None:
        """Raise if any request, response or webhook broke GitHub's OpenAPI description."""
        if self.validation_failures:
            lines = "\n".join(f"- {f}" for f in self.validation_failures[:20])
            raise AssertionError(
                f"{len(self.validation_failures)} OpenAPI validation failure(s):\n{lines}"
            )

    def count(self, operation_id: str | None = None, method: str | None = None) -> int:
        return sum(
            1
            for r in list(self.requests)
            if (operation_id is None or r.operation_id == operation_id)
            and (method is None or r.method == method)
        )

    # -- clock and ids -----------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self._clock_offset

    def now_iso(self) -> str:
        return iso(self.now())

    def advance(self, seconds: float) -> None:
        """Move the simulator's clock (token expiry, artifact expiry)."""
        self._clock_offset += seconds

    def next_id(self) -> int:
        return next(self._ids)

    # -- people ------------------------------------------------------------------------------
    def user(self, login: str, type: str = "User") -> User:
        with self.lock:
            found = self._users.get(login.lower())
            if found is None:
                found = User(login, self.next_id(), type)
                self._users[login.lower()] = found
            return found

    def has_user(self, login: str) -> bool:
        return login.lower() in self._users

    def user_for_email(self, email: str) -> str | None:
        for u in self._users.values():
            if u.email == email:
                return u.login
        return None

    def create_org(self, login: str) -> User:
        return self.user(login, "Organization")

    def org_json(self, login: str) -> dict[str, Any]:
        org = self.user(login, "Organization")
        out = self.spec.skeleton("/components/schemas/team-organization")
        base = f"{self.url}/orgs/{org.login}"
        out.update(
            login=org.login,
            id=org.id,
            node_id=self.render._node("Organization", org.id),
            url=base,
            repos_url=f"{base}/repos",
            events_url=f"{base}/events",
            hooks_url=f"{base}/hooks",
            issues_url=f"{base}/issues",
            members_url=f"{base}/members{{/member}}",
            public_members_url=f"{base}/public_members{{/member}}",
            avatar_url=f"{self.url}/_web/avatars/{org.id}",
            description=None,
            html_url=f"{self.url}/_web/{org.login}",
            type="Organization",
            created_at=self.now_iso(),
            updated_at=self.now_iso(),
        )
        return out

    def add_token(self, login: str, value: str | None = None) -> str:
        """A personal access token acting as `login`."""
        token = value or f"ghp_{secrets.token_hex(18)}"
        self.user(login)
        self.tokens[token] = Token(token, login)
        return token

    # -- apps and installations --------------------------------------------------------------
    def create_app(
        self, slug: str = "mlbot", *, app_id: int | None = None, owner: str = "mlbot-org"
    ) -> App:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        app = App(app_id or self.next_id(), slug, slug, owner, private, public)
        self.apps[slug] = app
        self.user(f"{slug}[bot]", "Bot")
        self.user(owner, "Organization")
        return app

    def app_json(self, slug: str) -> dict[str, Any]:
        app = self.apps.get(slug)
        if app is None:
            app = self.create_app(slug)
        out = self.spec.skeleton("/components/schemas/integration")
        out.update(
            id=app.id,
            slug=app.slug,
            node_id=self.render._node("App", app.id),
            client_id=f"Iv1.{app.id}",
            owner=self.render.user(app.owner),
            name=app.name,
            description=None,
            external_url=f"{self.url}/_web/apps/{app.slug}",
            html_url=f"{self.url}/_web/apps/{app.slug}",
            created_at=self.now_iso(),
            updated_at=self.now_iso(),
            permissions={"issues": "write", "pull_requests": "write", "contents": "write"},
            events=["issue_comment", "pull_request"],
        )
        return out

    def install(
        self,
        app: App,
        account: str,
        *,
        repos: list[str] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> Installation:
        inst = Installation(
            self.next_id(),
            account,
            repos,
            permissions
            or {
                "contents": "write",
                "issues": "write",
                "pull_requests": "write",
                "checks": "write",
                "statuses": "read",
                "actions": "read",
                "members": "read",
                "metadata": "read",
            },
            ["issue_comment", "issues", "pull_request", "pull_request_review", "workflow_run"],
        )
        self.installations[inst.id] = inst
        self._installation_app[inst.id] = app.slug
        from bot.simulator.api import installation_json

        covered = [r for r in self._repos.values() if self.installation_for(r) is inst]
        self._emit(
            "installation",
            "created",
            None,
            account,
            installation=installation_json(self, inst.id),
            repositories=[
                {
                    "id": r.id,
                    "node_id": self.render._node("Repository", r.id),
                    "name": r.name,
                    "full_name": r.full_name,
                    "private": r.private,
                }
                for r in covered
            ],
            requester=None,
        )
        return inst

    def ping(self, app: App | None = None) -> Delivery:
        """GitHub's first delivery to a new hook (or App)."""
        hook = {
            "type": "App" if app else "Repository",
            "id": self.webhooks.hook_id,
            "name": "web",
            "active": True,
            "events": ["*"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": self.webhooks.url or ""},
            "updated_at": self.now_iso(),
            "created_at": self.now_iso(),
        }
        if app:
            hook["app_id"] = app.id
        payload = {
            "zen": "Keep it logically awesome.",
            "hook_id": self.webhooks.hook_id,
            "hook": hook,
        }
        pointer = self.spec.webhook_pointer("ping", None)
        self._check_and_send(pointer, "ping", None, payload)
        return self.webhooks.deliveries[-1]

    def installation_for(self, repo: Repo) -> Installation | None:
        for inst in self.installations.values():
            if inst.account.lower() == repo.owner.lower() and (
                inst.repos is None or repo.full_name in inst.repos
            ):
                return inst
        return None

    def issue_installation_token(self, inst: Installation) -> Token:
        slug = self._installation_app[inst.id]
        value = f"ghs_{secrets.token_hex(18)}"
        token = Token(value, f"{slug}[bot]", inst.id, self.now() + self.token_ttl)
        self.tokens[value] = token
        return token

    # -- repositories ------------------------------------------------------------------------
    def repo(self, full_name: str, *, api: bool = False) -> Repo:
        found = self._repos.get(full_name.lower())
        if found is None:
            if api:
                raise ApiError(404, "Not Found")
            raise KeyError(f"no repository {full_name} in the simulator")
        return found

    def create_repo(
        self,
        full_name: str,
        files: dict[str, bytes | str] | None = None,
        *,
        default_branch: str = "main",
        private: bool = False,
        message: str = "Initial commit",
    ) -> Repo:
        owner, name = full_name.split("/")
        self.user(owner)
        with self.lock:
            store = GitStore(self.root / "repos" / owner / f"{name}.git")
            repo = Repo(self.next_id(), owner, name, store, default_branch, private)
            repo.created_at = self.now_iso()
            self._repos[full_name.lower()] = repo
            self._next_number[repo.full_name] = 1
            store.commit_files(
                dict(files or {"README.md": f"# {name}\n"}),
                message,
                branch=default_branch,
                author=self.person(owner),
            )
            return repo

    def fork(self, full_name: str, owner: str) -> Repo:
        parent = self.repo(full_name)
        with self.lock:
            self.user(owner)
            store = GitStore(self.root / "repos" / owner / f"{parent.name}.git")
            fork = Repo(self.next_id(), owner, parent.name, store, parent.default_branch)
            fork.fork_of = parent.full_name
            fork.created_at = self.now_iso()
            self._repos[fork.full_name.lower()] = fork
            self._next_number[fork.full_name] = 1
            for ref, _ in parent.store.refs("heads/"):
                store.fetch_from(parent.store, ref.removeprefix("refs/"), ref.removeprefix("refs/"))
            return fork

    def person(self, login: str) -> Person:
        user = self.user(login)
        return Person(user.login, user.email, int(self.now()))

    def add_collaborator(self, full_name: str, login: str, permission: str = "write") -> None:
        if permission not in PERMISSION_RANK:
            raise ValueError(f"unknown permission {permission!r}")
        self.user(login)
        self.repo(full_name).collaborators[login] = permission

    def permission(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "admin"
        for inst_id, slug in self._installation_app.items():
            inst = self.installations[inst_id]
            covers = inst.account.lower() == repo.owner.lower() and (
                inst.repos is None or repo.full_name in inst.repos
            )
            if covers and login.lower() == f"{slug}[bot]".lower():
                # An App acts with what its installation grants on repository contents.
                return "write" if inst.permissions.get("contents") == "write" else "read"
        for name, perm in repo.collaborators.items():
            if name.lower() == login.lower():
                return perm
        return "none" if repo.private else "read"

    def association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        if any(login.lower() == m.lower() for t in self.teams.values() for m in t.members):
            return "MEMBER"
        if any(name.lower() == login.lower() for name in repo.collaborators):
            return "COLLABORATOR"
        return "NONE"

    def create_team(self, org: str, slug: str, members: dict[str, str] | list[str]) -> Team:
        self.create_org(org)
        roles = members if isinstance(members, dict) else dict.fromkeys(members, "member")
        for login in roles:
            self.user(login)
        team = Team(self.next_id(), org, slug, slug, dict(roles))
        self.teams[(org.lower(), slug.lower())] = team
        return team

    def push(
        self,
        full_name: str,
        branch: str,
        files: dict[str, bytes | str | None],
        *,
        message: str = "Update",
        author: str | None = None,
    ) -> str:
        """Commit files on a branch (creating it from the default branch) and announce it."""
        repo = self.repo(full_name)
        with self.lock:
            before = repo.store.ref_sha(f"heads/{branch}")
            if before is None:
                start = repo.store.ref_sha(f"heads/{repo.default_branch}")
                if start:
                    repo.store.set_ref(f"heads/{branch}", start, force=True)
                before = start
            sha = repo.store.commit_files(
                files, message, branch=branch, author=self.person(author or repo.owner)
            )
            self._announce_push(repo, f"refs/heads/{branch}", before, sha, author or repo.owner)
            self._follow_pr_heads(repo, branch, sha, author or repo.owner)
            return sha

    def create_branch(self, full_name: str, branch: str, from_ref: str | None = None) -> str:
        repo = self.repo(full_name)
        sha = repo.store.resolve(from_ref or repo.default_branch, repo.default_branch)
        if sha is None:
            raise KeyError(from_ref)
        repo.store.create_ref(f"heads/{branch}", sha)
        return sha

    # -- issues and pulls --------------------------------------------------------------------
    def issue(self, full_name: str, number: int, *, api: bool = False) -> Issue:
        repo = self.repo(full_name, api=api)
        found = self._issues.get((repo.full_name, int(number)))
        if found is None:
            if api:
                raise ApiError(404, "Not Found")
            raise KeyError(f"no issue #{number} in {full_name}")
        return found

    def issues(self, full_name: str) -> list[Issue]:
        repo = self.repo(full_name)
        return [i for (name, _), i in sorted(self._issues.items()) if name == repo.full_name]

    def _new_issue(self, repo: Repo, title: str, body: str | None, user: str) -> Issue:
        number = self._next_number[repo.full_name]
        self._next_number[repo.full_name] = number + 1
        now = self.now_iso()
        issue = Issue(repo.full_name, number, self.next_id(), title, body, user, now, now)
        self._issues[(repo.full_name, number)] = issue
        return issue

    def ensure_label(self, repo: Repo, name: str) -> Label:
        label = repo.labels.get(name)
        if label is None:
            label = Label(self.next_id(), name)
            repo.labels[name] = label
        return label

    def create_issue(
        self,
        full_name: str,
        title: str,
        body: str | None = None,
        *,
        user: str,
        labels: list[str] | None = None,
    ) -> int:
        repo = self.repo(full_name)
        with self.lock:
            issue = self._new_issue(repo, title, body, user)
            for name in labels or []:
                self.ensure_label(repo, name)
                issue.labels.append(name)
            self._emit("issues", "opened", repo, user, issue=self.render.issue(issue))
            for name in labels or []:
                self._emit(
                    "issues",
                    "labeled",
                    repo,
                    user,
                    issue=self.render.issue(issue),
                    label=self.render.label(repo, repo.labels[name]),
                )
            return issue.number

    def add_labels(self, full_name: str, number: int, labels: list[str], *, user: str) -> None:
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            for name in labels:
                if name in issue.labels:
                    continue
                label = self.ensure_label(repo, name)
                issue.labels.append(name)
                issue.updated_at = self.now_iso()
                self._announce_issue(
                    repo, issue, "labeled", user, label=self.render.label(repo, label)
                )

    def set_issue_state(
        self, full_name: str, number: int, state: str, *, user: str, reason: str | None = None
    ) -> None:
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            if issue.state == state:
                return
            issue.state = state
            issue.updated_at = self.now_iso()
            issue.closed_at = issue.updated_at if state == "closed" else None
            issue.state_reason = (reason or "completed") if state == "closed" else "reopened"
            self._announce_issue(repo, issue, "closed" if state == "closed" else "reopened", user)

    def _announce_issue(
        self, repo: Repo, issue: Issue, action: str, user: str, **extra: Any
    ) -> None:
        if issue.pull:
            self._emit(
                "pull_request",
                action,
                repo,
                user,
                number=issue.number,
                pull_request=self.render.pull(issue),
                **extra,
            )
        else:
            self._emit("issues", action, repo, user, issue=self.render.issue(issue), **extra)

    def open_pr(
        self,
        full_name: str,
        head: str,
        *,
        user: str,
        title: str = "Change",
        body: str | None = None,
        base: str | None = None,
        head_repo: str | None = None,
        draft: bool = False,
    ) -> int:
        repo = self.repo(full_name)
        source = self.repo(head_repo) if head_repo else repo
        with self.lock:
            base_ref = base or repo.default_branch
            head_sha = source.store.ref_sha(f"heads/{head}")
            base_sha = repo.store.ref_sha(f"heads/{base_ref}")
            if head_sha is None or base_sha is None:
                raise ApiError(
                    422, "Validation Failed", [{"resource": "PullRequest", "code": "invalid"}]
                )
            issue = self._new_issue(repo, title, body, user)
            issue.pull = PullInfo(source.full_name, head, head_sha, base_ref, base_sha, draft=draft)
            self._update_pull_ref(repo, issue)
            self._emit(
                "pull_request",
                "opened",
                repo,
                user,
                number=issue.number,
                pull_request=self.render.pull(issue),
            )
            return issue.number

    def _update_pull_ref(self, repo: Repo, issue: Issue) -> None:
        assert issue.pull is not None
        source = self.repo(issue.pull.head_repo)
        if source is repo:
            repo.store.set_ref(f"pull/{issue.number}/head", issue.pull.head_sha, force=True)
        else:
            repo.store.fetch_from(
                source.store, f"heads/{issue.pull.head_ref}", f"pull/{issue.number}/head"
            )

    def _follow_pr_heads(self, source: Repo, branch: str, sha: str, user: str) -> None:
        for issue in list(self._issues.values()):
            p = issue.pull
            if (
                p
                and issue.state == "open"
                and p.head_repo == source.full_name
                and p.head_ref == branch
                and p.head_sha != sha
            ):
                before, p.head_sha = p.head_sha, sha
                issue.updated_at = self.now_iso()
                repo = self.repo(issue.repo)
                self._update_pull_ref(repo, issue)
                self._emit(
                    "pull_request",
                    "synchronize",
                    repo,
                    user,
                    number=issue.number,
                    pull_request=self.render.pull(issue),
                    before=before,
                    after=sha,
                )

    def merge_pr(
        self,
        full_name: str,
        number: int,
        *,
        user: str,
        method: str = "merge",
        message: str | None = None,
    ) -> str:
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            p = issue.pull
            if p is None or issue.state != "open":
                raise ApiError(405, "Pull Request is not mergeable")
            base_sha = repo.store.ref_sha(f"heads/{p.base_ref}")
            assert base_sha is not None
            text = message or f"Merge pull request #{number}\n\n{issue.title}"
            sha = repo.store.merge(
                base_sha, p.head_sha, text, self.person(user), squash=method == "squash"
            )
            if sha is None:
                raise ApiError(405, "Pull Request is not mergeable")
            repo.store.set_ref(f"heads/{p.base_ref}", sha, force=False)
            p.merged, p.merged_at, p.merged_by, p.merge_commit_sha = True, self.now_iso(), user, sha
            issue.state, issue.closed_at, issue.updated_at = "closed", p.merged_at, p.merged_at
            self._announce_push(repo, f"refs/heads/{p.base_ref}", base_sha, sha, user)
            self._emit(
                "pull_request",
                "closed",
                repo,
                user,
                number=number,
                pull_request=self.render.pull(issue),
            )
            for closed in _closing_references(issue.body or ""):
                other = self._issues.get((repo.full_name, closed))
                if other and other.pull is None and other.state == "open":
                    self.set_issue_state(full_name, closed, "closed", user=user)
            return sha

    def submit_review(
        self,
        full_name: str,
        number: int,
        *,
        user: str,
        state: str = "APPROVED",
        body: str = "",
        commit_id: str | None = None,
    ) -> int:
        if state not in {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"}:
            raise ValueError(f"unknown review state {state!r}")
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            assert issue.pull is not None, "reviews are for pull requests"
            review = Review(
                self.next_id(),
                repo.full_name,
                number,
                user,
                state,
                body,
                commit_id or issue.pull.head_sha,
                self.now_iso(),
            )
            self.reviews[review.id] = review
            self._emit(
                "pull_request_review",
                "submitted",
                repo,
                user,
                review=self.render.review(review),
                pull_request=self.render.pull(issue),
            )
            return review.id

    def dismiss_review(self, review_id: int, *, user: str, message: str = "Dismissed") -> None:
        with self.lock:
            review = self.reviews[review_id]
            review.state = "DISMISSED"
            repo = self.repo(review.repo)
            issue = self.issue(review.repo, review.number)
            self._emit(
                "pull_request_review",
                "dismissed",
                repo,
                user,
                review=self.render.review(review),
                pull_request=self.render.pull(issue),
            )

    # -- comments ----------------------------------------------------------------------------
    def comment(self, full_name: str, number: int, body: str, *, user: str) -> int:
        repo = self.repo(full_name)
        with self.lock:
            return self._create_comment(repo, self.issue(full_name, number), body, user).id

    def _create_comment(self, repo: Repo, issue: Issue, body: str, user: str) -> Comment:
        now = self.now_iso()
        comment = Comment(self.next_id(), repo.full_name, issue.number, user, body, now, now)
        self.comments[comment.id] = comment
        issue.comment_ids.append(comment.id)
        self._emit(
            "issue_comment",
            "created",
            repo,
            user,
            issue=self.render.issue(issue),
            comment=self.render.comment(comment),
        )
        return comment

    def edit_comment(self, comment_id: int, body: str, *, user: str) -> None:
        with self.lock:
            comment = self.comments[comment_id]
            self._edit_comment(comment, body, user)

    def _edit_comment(self, comment: Comment, body: str, user: str) -> None:
        old = comment.body
        comment.body = body
        comment.updated_at = self.now_iso()
        repo = self.repo(comment.repo)
        issue = self.issue(comment.repo, comment.issue_number)
        self._emit(
            "issue_comment",
            "edited",
            repo,
            user,
            issue=self.render.issue(issue),
            comment=self.render.comment(comment),
            changes={"body": {"from": old}},
        )

    def comments_on(self, full_name: str, number: int) -> list[Comment]:
        issue = self.issue(full_name, number)
        return [self.comments[i] for i in issue.comment_ids if i in self.comments]

    # -- checks, statuses, workflow runs -----------------------------------------------------
    def create_check_run(
        self,
        full_name: str,
        sha: str,
        name: str,
        *,
        conclusion: str | None = "success",
        app: str = "github-actions",
    ) -> int:
        repo = self.repo(full_name)
        now = self.now_iso()
        run = CheckRun(
            self.next_id(),
            repo.full_name,
            name,
            sha,
            "completed" if conclusion else "in_progress",
            conclusion,
            now,
            now if conclusion else None,
            app,
        )
        self.check_runs[run.id] = run
        return run.id

    def set_status(
        self, full_name: str, sha: str, context: str, state: str, *, user: str | None = None
    ) -> None:
        repo = self.repo(full_name)
        self.statuses.append(
            CommitStatus(
                self.next_id(),
                repo.full_name,
                sha,
                state,
                context,
                None,
                None,
                self.now_iso(),
                user or repo.owner,
            )
        )

    def create_workflow_run(
        self,
        full_name: str,
        *,
        name: str,
        head_sha: str,
        head_branch: str,
        path: str | None = None,
        event: str = "pull_request",
        pull_numbers: list[int] | None = None,
        artifacts: dict[str, dict[str, bytes | str]] | None = None,
        conclusion: str | None = "success",
        actor: str | None = None,
        head_repo: str | None = None,
    ) -> int:
        """A workflow run with zip artifacts, completed (and announced) unless conclusion=None."""
        repo = self.repo(full_name)
        with self.lock:
            number = 1 + sum(1 for r in self.workflow_runs.values() if r.repo == repo.full_name)
            now = self.now_iso()
            workflow_path = path or f".github/workflows/{name.lower().replace(' ', '-')}.yml"
            run = WorkflowRun(
                self.next_id(),
                repo.full_name,
                name,
                workflow_path,
                int(hashlib.sha1(workflow_path.encode()).hexdigest()[:6], 16),  # noqa: S324 - an id, not security
                head_sha,
                head_branch,
                head_repo or repo.full_name,
                event,
                actor or repo.owner,
                number,
                now,
                now,
                "in_progress",
                None,
                list(pull_numbers or []),
            )
            self.workflow_runs[run.id] = run
            for art_name, files in (artifacts or {}).items():
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                    for fname, data in files.items():
                        zf.writestr(fname, data)
                art = Artifact(
                    self.next_id(),
                    repo.full_name,
                    run.id,
                    art_name,
                    buf.getvalue(),
                    now,
                    iso(self.now() + 90 * 86400),
                )
                self.artifacts[art.id] = art
                run.artifact_ids.append(art.id)
            if conclusion is not None:
                self.complete_workflow_run(run.id, conclusion)
            return run.id

    def complete_workflow_run(self, run_id: int, conclusion: str = "success") -> None:
        with self.lock:
            run = self.workflow_runs[run_id]
            run.status, run.conclusion, run.updated_at = "completed", conclusion, self.now_iso()
            repo = self.repo(run.repo)
            self._emit(
                "workflow_run",
                "completed",
                repo,
                run.actor,
                workflow_run=self.render.workflow_run(run),
                workflow=self._workflow_json(run),
            )

    def _workflow_json(self, run: WorkflowRun) -> dict[str, Any]:
        repo = self.repo(run.repo)
        out = self.spec.skeleton("/components/schemas/workflow")
        out.update(
            id=run.workflow_id,
            node_id=self.render._node("Workflow", run.workflow_id),
            name=run.name,
            path=run.path,
            state="active",
            created_at=run.created_at,
            updated_at=run.updated_at,
            url=f"{self.url}/repos/{repo.full_name}/actions/workflows/{run.workflow_id}",
            html_url=f"{self.url}/_web/{repo.full_name}/blob/{repo.default_branch}/{run.path}",
            badge_url=f"{self.url}/_web/{repo.full_name}/workflows/{run.name}/badge.svg",
        )
        return out

    def artifact_download_url(self, art: Artifact) -> str:
        key = self._download_keys.setdefault(art.id, secrets.token_urlsafe(16))
        return f"{self.url}/_sim/artifacts/{art.id}/{key}.zip"

    # -- webhooks ----------------------------------------------------------------------------
    def _announce_push(
        self, repo: Repo, ref: str, before: str | None, after: str, user: str
    ) -> None:
        u = self.user(user)
        commit = self.render.git_commit(repo, after)
        head = {
            "id": after,
            "tree_id": commit["tree"]["sha"],
            "distinct": True,
            "message": commit["message"],
            "timestamp": commit["committer"]["date"],
            "url": commit["html_url"],
            "author": {"name": u.login, "email": u.email, "username": u.login},
            "committer": {"name": u.login, "email": u.email, "username": u.login},
            "added": [],
            "removed": [],
            "modified": [],
        }
        self._emit(
            "push",
            None,
            repo,
            user,
            ref=ref,
            before=before or "0" * 40,
            after=after,
            created=before is None,
            deleted=False,
            forced=False,
            base_ref=None,
            compare=f"{self.url}/_web/{repo.full_name}/compare/{(before or '')[:12]}..{after[:12]}",
            commits=[head],
            head_commit=head,
            pusher={"name": u.login, "email": u.email},
        )

    def _emit(
        self, event: str, action: str | None, repo: Repo | None, sender: str, **objects: Any
    ) -> None:
        pointer = self.spec.webhook_pointer(event, action)
        payload: dict[str, Any] = self.spec.skeleton(pointer) if pointer else {}
        for key, value in objects.items():
            payload[key] = _deep_fill(payload.get(key), value)
        if action is not None:
            payload["action"] = action
        payload["sender"] = self.render.user(sender)
        if repo is None:  # account-level events (installation, ping) carry their own context
            self._check_and_send(pointer, event, action, payload)
            return
        payload["repository"] = _deep_fill(
            payload.get("repository"), self.render.repo(repo, "repository")
        )
        if event == "push":
            payload["repository"]["created_at"] = int(self.now())
            payload["repository"]["pushed_at"] = int(self.now())
        inst = self.installation_for(repo)
        if inst is not None:
            payload["installation"] = {
                "id": inst.id,
                "node_id": self.render._node("Installation", inst.id),
            }
        else:
            payload.pop("installation", None)
        owner = self.user(repo.owner)
        if owner.type == "Organization":
            org = self.org_json(owner.login)
            payload["organization"] = {
                k: org[k]
                for k in (
                    "login",
                    "id",
                    "node_id",
                    "url",
                    "repos_url",
                    "events_url",
                    "hooks_url",
                    "issues_url",
                    "members_url",
                    "public_members_url",
                    "avatar_url",
                    "description",
                )
            }
        self._check_and_send(pointer, event, action, payload)

    def _check_and_send(
        self, pointer: str | None, event: str, action: str | None, payload: dict[str, Any]
    ) -> None:
        # Payloads nobody receives are not worth validating (bulk set-up of 1000 comments).
        if pointer and self.webhooks.url is not None:
            errors = self.spec.schema_errors(pointer, payload)
            if errors:
                self.validation_failures.append(
                    ValidationFailure("webhook", "POST", f"{event}.{action}", errors)
                )
        self.webhooks.enqueue(event, action, payload)


def _deep_fill(skeleton: Any, value: Any) -> Any:
    """`value`, with any field the webhook schema requires taken from its skeleton."""
    if not isinstance(skeleton, dict) or not isinstance(value, dict):
        return value
    out = dict(value)
    for key, default in skeleton.items():
        out[key] = _deep_fill(default, value[key]) if key in value else default
    return out


def _closing_references(body: str) -> list[int]:
    import re

    return [
        int(n)
        for n in re.findall(r"(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)", body)
    ]


# -- HTTP ------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: GitHubSimulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without NODELAY, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the simulator keeps its own request log

    def _serve(self) -> None:
        from bot.simulator.api import serve

        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        result = serve(self.server.sim, self.command, self.path, dict(self.headers.items()), raw)
        if result is None:  # an injected timeout: drop the connection without an answer
            self.close_connection = True
            return
        status, headers, body = result
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


__all__ = [
    "ApiError",
    "GitDataError",
    "GitHubSimulator",
    "LoggedRequest",
    "RequestContext",
    "Response",
    "ValidationFailure",
]
