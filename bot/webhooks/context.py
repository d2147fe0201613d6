"""What a handler gets besides the payload: who, where, and a GitHub client."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.server.settings import Settings

GitHubFactory = Callable[[int | None], Any]
# Held around a registry write to one model (repository, model): one writer across replicas.
ModelLock = Callable[[str, str], AbstractContextManager[None]]


@contextmanager
def _unlocked(repo: str, model: str) -> Iterator[None]:
    yield


@dataclass
class JobContext:
    """One run of one delivery's job.

    `github` is built on first use from the injected factory, for this
    delivery's installation, so a handler that never calls GitHub costs no
    token exchange.
    """

    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    attempt: int
    settings: Settings
    log: logging.LoggerAdapter[logging.Logger]
    github_factory: GitHubFactory = field(repr=False)
    # Every event the running router handles (what the App should subscribe to).
    handled_events: frozenset[str] = frozenset()
    model_lock: ModelLock = field(default=_unlocked, repr=False)
    # What the handlers of this one job share (the default branch as read, the run's PRs),
    # so a second handler of the same delivery does not ask GitHub again.
    shared: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def github(self) -> Any:
        return self.github_factory(self.installation_id)

    def github_if_used(self) -> Any | None:
        """The client if a handler asked for it, without building one."""
        return self.__dict__.get("github")
