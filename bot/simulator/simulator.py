"""`GitHubSimulator`: the control API's families assembled, behind an HTTP server.

Every API request is matched to an operation of GitHub's OpenAPI description,
validated, answered by a handler in `bot.simulator.rest` (see
`bot.simulator.pipeline`), and its response validated against the schema GitHub
documents for that status. Anything that does not validate is recorded in
`validation_failures`, which the pytest fixture asserts empty at teardown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from bot.simulator.control.actions import ActionsControl
from bot.simulator.control.apps import AppsControl
from bot.simulator.control.checks import ChecksControl
from bot.simulator.control.deployments import DeploymentsControl
from bot.simulator.control.merge_queue import MergeQueueControl
from bot.simulator.control.pulls import PullsControl
from bot.simulator.faults import Faults
from bot.simulator.openapi import OpenAPISpec, load_spec
from bot.simulator.server import ApiServer


@dataclass(frozen=True)
class RequestCounts:
    sent: int
    counted: int  # spent the rate limit
    uncounted: int  # did not
    not_modified: int  # of those, 304 answers to conditional requests


class GitHubSimulator(
    PullsControl,
    ChecksControl,
    ActionsControl,
    AppsControl,
    DeploymentsControl,
    MergeQueueControl,
):
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
        rate_limit: int = 5000,
    ) -> None:
        self._server = ApiServer((host, port), self)
        bound_host, bound_port = self._server.server_address[:2]
        super().__init__(
            root,
            f"http://{bound_host}:{bound_port}",
            spec=spec or load_spec(),
            faults=faults or Faults(),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            token_ttl=token_ttl,
            rate_limit=rate_limit,
        )
        self._thread: threading.Thread | None = None

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

    def assert_valid(self) -> None:
        """Raise if any request, response or webhook broke GitHub's OpenAPI description."""
        if self.validation_failures:
            lines = "\n".join(f"- {f}" for f in self.validation_failures[:20])
            raise AssertionError(
                f"{len(self.validation_failures)} OpenAPI validation failure(s):\n{lines}"
            )

    def request_counts(self, login: str | None = None) -> RequestCounts:
        """Requests received so far (by `login`, if given): counted against the rate
        limit or not (304 answers, `GET /rate_limit`, refused credentials, faults)."""
        entries = [r for r in list(self.requests) if login is None or r.login == login]
        counted = sum(1 for r in entries if r.counted)
        not_modified = sum(1 for r in entries if r.not_modified)
        return RequestCounts(len(entries), counted, len(entries) - counted, not_modified)

    def count(self, operation_id: str | None = None, method: str | None = None) -> int:
        return sum(
            1
            for r in list(self.requests)
            if (operation_id is None or r.operation_id == operation_id)
            and (method is None or r.method == method)
        )
