"""What passes through the request pipeline: the handler's context, its answer, its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.simulator.state import App, Repo, Token

if TYPE_CHECKING:
    from bot.simulator.simulator import GitHubSimulator

DOCS_URL = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error answer, in GitHub's JSON shape (`message`, `documentation_url`, `errors`)."""

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
    installation_id: int | None = None
    counted: bool = False  # spent one request of the rate limit
    not_modified: bool = False  # answered 304 to a conditional request


@dataclass
class RequestContext:
    """One validated request, as a handler sees it."""

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
    headers: dict[str, str] = field(default_factory=dict)

    def repo(self) -> Repo:
        return self.sim.repo(f"{self.params['owner']}/{self.params['repo']}", api=True)

    def need_login(self) -> str:
        if self.login is None:
            raise ApiError(403, "Resource not accessible by integration")
        return self.login

    def resolve(self, ref: str | None) -> str:
        """The commit sha `ref` names in this request's repository (default branch if None)."""
        repo = self.repo()
        sha = repo.store.resolve(ref or repo.default_branch, repo.default_branch)
        if sha is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        return sha
