"""Which failures of a job are worth retrying.

A handler signals "try again later" by raising `TransientError`. Network
failures and 5xx/429 answers from GitHub are transient too, whatever library
raised them, so handlers need not translate PyGithub, requests or httpx errors.
Anything else is a bug or a permanent refusal: retrying it only delays the
dead letter.
"""

from __future__ import annotations

import sys


class TransientError(Exception):
    """A failure that may succeed later (GitHub down, rate limited, network)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _status_of(exc: BaseException) -> int | None:
    # PyGithub's GithubException has .status; httpx/requests errors carry .response.
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _is_rate_limit(exc: BaseException) -> bool:
    github = sys.modules.get("github")
    kind = getattr(github, "RateLimitExceededException", None) if github else None
    return isinstance(kind, type) and isinstance(exc, kind)


def is_transient(exc: BaseException) -> bool:
    """True when retrying the job later may succeed."""
    if isinstance(exc, TransientError):
        return True
    # requests' errors derive from OSError; so do socket and timeout errors.
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return True
    if _is_rate_limit(exc):
        return True
    status = _status_of(exc)
    return status is not None and (status >= 500 or status == 429)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After), when it said so."""
    value = getattr(exc, "retry_after", None)
    if isinstance(value, (int, float)) and value >= 0:
        return float(value)
    headers = getattr(exc, "headers", None) or getattr(
        getattr(exc, "response", None), "headers", None
    )
    if headers is None:
        return None
    try:
        raw = headers.get("Retry-After") or headers.get("retry-after")
        return float(raw) if raw is not None else None
    except (TypeError, ValueError, AttributeError):
        return None
