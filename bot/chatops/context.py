"""Where a command runs: the repository as its default branch says, and its issues.

Everything that gates anything is read from the repository's **default
branch** through one `DefaultBranch` reader (`bot.chatops.repository`), never
from a pull request's head. Reads are cached for the job.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.chatops.repository import DefaultBranch, Memo, gather

if TYPE_CHECKING:
    from bot.config.schema import RepoConfig
    from bot.github.client import GitHub
    from bot.policy.schema import Policy
    from bot.registry.service import Registry
    from bot.registry.state import ModelState

BOT_EMAIL = "bot@mlbot.invalid"


@dataclass
class RepoContext:
    """The default branch of one repository, read lazily, once per job."""

    gh: GitHub
    full_name: str
    default_branch: str
    bot_login: str = "mlbot[bot]"
    _memo: Memo = field(default_factory=Memo, repr=False)
    # Registry commits this job wrote, oldest first: an error reply says what was written.
    written: list[str] = field(default_factory=list)
    # (repository, model) -> held around a registry write: the store's, across replicas.
    model_lock: Callable[[str, str], AbstractContextManager[Any]] | None = field(
        default=None, repr=False
    )

    # -- once per job, safe across threads -------------------------------------------------
    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()` the first time `key` is asked for; later (or concurrent) asks wait."""
        return self._memo.once(key, compute)

    def forget(self, *prefixes: str) -> None:
        self._memo.forget(*prefixes)

    def gather(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run independent reads at the same time (each waits ~one round trip to GitHub)."""
        return gather(*calls)

    # -- raw API ---------------------------------------------------------------------------
    def call(self, method: str, path: str, params: dict[str, Any] | None = None, body=None) -> Any:
        return self.gh.rest(method, path, params, body)

    def repo_path(self, rest: str) -> str:
        return f"/repos/{self.full_name}{rest}"

    # -- the default branch ----------------------------------------------------------------
    @property
    def branch(self) -> DefaultBranch:
        return self.once(
            "branch", lambda: DefaultBranch(self.gh, self.full_name, self.default_branch)
        )

    @property
    def store(self) -> Any:
        return self.branch.store

    @property
    def head(self) -> str | None:
        return self.branch.head

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        return self.branch.read(paths)

    @property
    def config(self) -> RepoConfig:
        return self.branch.require_config()

    @property
    def codeowners(self) -> tuple[str, str] | None:
        return self.branch.codeowners()

    def policy(self, model: str) -> Policy:
        return self.branch.policy(model)

    def state(self, model: str) -> ModelState:
        """The model's registry state at the head read first (forgotten after a write)."""
        return self.branch.state(model)

    def wrote(self, commit: str | None = None) -> None:
        """The registry moved (by `commit`, when this job wrote it): later reads see it."""
        if commit:
            self.written.append(commit)
        self.branch.moved()

    def registry_log(self, model: str) -> list[Any]:
        """The model's newest registry commits at the head, newest first (one page, which
        reading the model's state reads anyway)."""
        head = self.head
        return self.store.recent_log(model, head) if head else []

    def registry(self) -> Registry:
        from bot.chatops import deployments
        from bot.ml import model_registry
        from bot.registry.service import Registry
        from bot.registry.store import Identity

        lock = self.model_lock or (lambda repo, model: nullcontext())
        return Registry(
            self.store,
            self.policy,
            author=Identity(self.bot_login, BOT_EMAIL, github_app=True),
            repo_root=None,
            model_lock=lambda model: lock(self.full_name, model),
            projections=(
                deployments.projection(self),
                *model_registry.projections(self.store, self.config),
            ),
        )

    # -- people ----------------------------------------------------------------------------
    def permission(self, login: str) -> str:
        return self.once(f"perm:{login.lower()}", lambda: self.gh.permission(self.full_name, login))

    def team_members(self, team: str) -> list[str]:
        """`org/team` -> member logins (empty for a team that does not exist)."""
        return self.branch.team_members(team)

    def owners_of(self, path: str) -> tuple[list[str], str | None]:
        """Logins owning `path` per the default branch's CODEOWNERS, teams expanded.

        Returns (logins, the CODEOWNERS file used or None when there is none).
        """
        return self.branch.owners_of(path)

    # -- issues and pull requests ----------------------------------------------------------
    def pull(self, number: int) -> dict[str, Any]:
        return self.once(
            f"pull:{number}", lambda: self.call("GET", self.repo_path(f"/pulls/{number}"))
        )

    def reviews(self, number: int) -> list[dict[str, Any]]:
        return self.once(f"reviews:{number}", lambda: self._reviews(number))

    def _reviews(self, number: int) -> list[dict[str, Any]]:
        return list(self.gh.pages(self.repo_path(f"/pulls/{number}/reviews")))

    def comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment of an issue or PR, oldest first, across every page."""
        return self.once(f"comments:{number}", lambda: self._comments(number))

    def _comments(self, number: int) -> list[dict[str, Any]]:
        return list(self.gh.pages(self.repo_path(f"/issues/{number}/comments")))

    def forget_comments(self, number: int) -> None:
        self.forget(f"comments:{number}")

    def check_conclusions(self, sha: str) -> dict[str, str]:
        """Check runs and commit statuses of a commit: name -> conclusion (latest wins)."""
        return self.once(f"checks:{sha}", lambda: self._check_conclusions(sha))

    def _check_conclusions(self, sha: str) -> dict[str, str]:
        runs = self.call("GET", self.repo_path(f"/commits/{sha}/check-runs"), {"per_page": 100})
        found: dict[str, str] = {}
        for run in sorted(runs.get("check_runs", []), key=lambda r: r.get("id", 0)):
            found[run["name"]] = run.get("conclusion") or run.get("status") or "pending"
        return found

    def statuses(self, sha: str) -> dict[str, str]:
        data = self.call("GET", self.repo_path(f"/commits/{sha}/status"), {"per_page": 100})
        return {s["context"]: s["state"] for s in data.get("statuses", [])}
