"""Everything the simulator knows (people, repositories, issues, runs), its clock and ids.

The base of the control API: lookups only. What changes the world, and what it
announces, lives in `bot.simulator.control` and `bot.simulator.webhooks`.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

from bot.simulator.delivery import WebhookSender
from bot.simulator.faults import Faults
from bot.simulator.openapi import OpenAPISpec
from bot.simulator.render import Renderer, iso
from bot.simulator.request import ApiError, LoggedRequest, ValidationFailure
from bot.simulator.state import (
    App,
    Artifact,
    CheckRun,
    Comment,
    CommitStatus,
    Deployment,
    Environment,
    GateRequest,
    Installation,
    Issue,
    Repo,
    Review,
    Team,
    Token,
    User,
    WorkflowRun,
)


class World:
    def __init__(
        self,
        root: Path,
        url: str,
        *,
        spec: OpenAPISpec,
        faults: Faults,
        webhook_url: str | None,
        webhook_secret: str | None,
        token_ttl: float,
        rate_limit: int = 5000,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.spec = spec
        self.faults = faults
        self.token_ttl = token_ttl
        self.lock = threading.RLock()
        self.render = Renderer(self)
        self.webhooks = WebhookSender(webhook_url, webhook_secret, clock=self.now)
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
        self.deployments: dict[int, Deployment] = {}
        self.environments: dict[tuple[str, str], Environment] = {}  # (repo, name)
        self.gate_requests: dict[int, GateRequest] = {}  # workflow run id -> request
        self.statuses: list[CommitStatus] = []
        self.workflow_runs: dict[int, WorkflowRun] = {}
        self.artifacts: dict[int, Artifact] = {}
        self.teams: dict[tuple[str, str], Team] = {}
        self.installations: dict[int, Installation] = {}
        self.apps: dict[str, App] = {}
        self.tokens: dict[str, Token] = {}
        self._installation_app: dict[int, str] = {}  # installation id -> app slug
        self._download_keys: dict[int, str] = {}
        self.signed_commits: dict[str, float] = {}  # sha -> when GitHub signed it
        # The primary rate limit (see bot.simulator.budget); a test may set either.
        self.rate_limit_limit = rate_limit
        self.rate_limit_remaining = rate_limit
        self.rate_limit_reset: float | None = None

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

    # -- lookups -----------------------------------------------------------------------------
    def user(self, login: str, type: str = "User") -> User:
        """The user `login`, created on first mention."""
        with self.lock:
            found = self._users.get(login.lower())
            if found is None:
                found = User(login, self.next_id(), type, self.now_iso())
                self._users[login.lower()] = found
            return found

    def has_user(self, login: str) -> bool:
        return login.lower() in self._users

    def user_for_email(self, email: str) -> str | None:
        for u in self._users.values():
            if u.email == email:
                return u.login
        return None

    def repo(self, full_name: str, *, api: bool = False) -> Repo:
        found = self._repos.get(full_name.lower())
        if found is None:
            if api:
                raise ApiError(404, "Not Found")
            raise KeyError(f"no repository {full_name} in the simulator")
        return found

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

    def installation_for(self, repo: Repo) -> Installation | None:
        for inst in self.installations.values():
            if inst.account.lower() == repo.owner.lower() and (
                inst.repos is None or repo.full_name in inst.repos
            ):
                return inst
        return None
