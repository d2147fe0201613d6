"""Retries and request counting for every HTTP request PyGithub sends.

PyGithub hands an urllib3 `Retry` to its requests adapter; urllib3 consults
it after every response (`is_retry`) and on every connection error or timeout
(`increment`). `GithubRetry` already retries 5xx, honours `Retry-After`, and
waits out primary and secondary rate limits; this subclass also counts each
attempt into a `RequestCounter` shared by the retry objects urllib3 derives
with `new()`, so a job knows how many requests it really sent.
"""

from __future__ import annotations

import threading
from typing import Any

from github.GithubRetry import GithubRetry
from urllib3.util.retry import Retry

# urllib3's defaults (HEAD, GET, PUT, DELETE, OPTIONS, TRACE) plus what GitHub writes
# with: POST (GithubRetry adds it) and PATCH (ref updates with force=false are safe to
# repeat: a repeated fast-forward to the same SHA is a no-op, a lost race is a 422).
RETRIED_METHODS = frozenset(Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"})


class RequestCounter:
    """Thread-safe tallies of requests sent, failed answers, and connection errors."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.errors = 0  # 5xx, 403/429 rate limits, timeouts and connection errors
        self.by_status: dict[int, int] = {}

    def response(self, status: int, has_retry_after: bool = False) -> None:
        with self._lock:
            self.requests += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            # A 403 with Retry-After is a secondary rate limit, not a permission refusal.
            if status >= 500 or status == 429 or (status == 403 and has_retry_after):
                self.errors += 1

    def failure(self) -> None:
        with self._lock:
            self.requests += 1
            self.errors += 1


class CountingRetry(GithubRetry):
    def __init__(self, counter: RequestCounter | None = None, **kwargs: Any) -> None:
        self.counter = counter if counter is not None else RequestCounter()
        kwargs.setdefault("allowed_methods", RETRIED_METHODS)
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> CountingRetry:
        kw["counter"] = self.counter
        return super().new(**kw)  # type: ignore[return-value]

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # urllib3 calls this once per response received, retried or not.
        self.counter.response(status_code, has_retry_after)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None
    ):  # type: ignore[override]
        if response is None and error is not None:
            self.counter.failure()  # no answer at all: a timeout or a broken connection
        return super().increment(method, url, response, error, _pool, _stacktrace)
