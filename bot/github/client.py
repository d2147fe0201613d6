"""The one adapter between mlbot and the GitHub REST API (PyGithub underneath).

`GitHubClientFactory` holds credentials (a GitHub App's id and private key,
or a plain token) and hands out a `GitHub` per job: a PyGithub `Github`
(`.api`) that retries 5xx and timeouts with backoff, honours `Retry-After`
and rate limits, and counts the requests it sends (`.request_count`).
Installation tokens are fetched with the App's JWT and cached until shortly
before they expire. Tokens never reach a log line or a repr.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.errors import InputError
from bot.github.cache import ConditionalCache
from bot.github.retry import CountingRetry, RequestCounter

if TYPE_CHECKING:
    from github import Github
    from github.IssueComment import IssueComment
    from github.Repository import Repository

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15  # seconds; PyGithub accepts whole seconds only
DEFAULT_MAX_RETRIES = 5
# Refresh an installation token this long before GitHub says it expires (tokens last 1 h).
TOKEN_REFRESH_MARGIN = 300.0


# Every PyGithub request goes through one of these public Requester methods.
_PACED_METHODS = (
    "requestJsonAndCheck",
    "requestBlobAndCheck",
    "requestMultipartAndCheck",
    "requestMemoryBlobAndCheck",
    "getStream",
)


class RateLimited(Exception):
    """The primary rate limit is spent and resets later than we are willing to wait."""


@dataclass
class _CachedToken:
    token: str
    expires_at: float

    def __repr__(self) -> str:  # never show the token itself
        return f"_CachedToken(expires_at={self.expires_at})"


class GitHub:
    """One job's view of the GitHub API: PyGithub plus the helpers PyGithub lacks."""

    def __init__(
        self,
        api: Github,
        counter: RequestCounter,
        *,
        max_rate_limit_wait: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        cache: ConditionalCache | None = None,
        cache_scope: str = "token",
    ) -> None:
        self.api = api
        self.counter = counter
        self._cache, self._cache_scope = cache, cache_scope
        self._max_rate_limit_wait = max_rate_limit_wait
        self._clock = clock
        self._sleep = sleep
        self._repos: dict[str, Repository] = {}
        self._lazy_api: Github | None = None
        self._remaining, self._reset = -1, 0.0  # as last announced by GitHub
        self._instrument(api.requester)

    def __repr__(self) -> str:
        return f"GitHub(base_url={self.api.requester.base_url!r}, requests={self.request_count})"

    def close(self) -> None:
        """Release the HTTP connections (a job's client is done)."""
        self.api.close()
        if self._lazy_api is not None:
            self._lazy_api.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries and redirects included."""
        return self.counter.requests

    @property
    def error_count(self) -> int:
        return self.counter.errors

    # -- pacing and conditional requests ------------------------------------------------------
    def _instrument(self, requester: Any) -> None:
        if self._cache is not None:
            # Instance attribute: PyGithub calls `self.requestJson` for every JSON request.
            requester.requestJson = self._cache.wrap(self._cache_scope, requester.requestJson)
        self._pace(requester)

    def _pace(self, requester: Any) -> None:
        """Make every request of this requester wait out a spent primary rate limit first.

        PyGithub reads X-RateLimit-Remaining and X-RateLimit-Reset into the requester
        after each answer but never waits on them; wrapping its public request methods
        (on this instance only) makes the next request wait until the reset instead of
        being refused.
        """
        for name in _PACED_METHODS:
            original = getattr(requester, name, None)
            if original is None:
                continue

            def paced(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                self.wait_for_rate_limit()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self._note_rate_limit(requester)

            setattr(requester, name, paced)

    def _note_rate_limit(self, requester: Any) -> None:
        remaining, _limit = requester.rate_limiting
        if remaining >= 0:
            self._remaining, self._reset = remaining, requester.rate_limiting_resettime

    def wait_for_rate_limit(self) -> None:
        """If the last answer said X-RateLimit-Remaining: 0, wait for X-RateLimit-Reset."""
        if self._remaining != 0:
            return
        wait = self._reset - self._clock() + 1
        if wait <= 0:
            return
        if wait > self._max_rate_limit_wait:
            raise RateLimited(
                f"GitHub's rate limit is spent for {wait:.0f} s more, "
                f"longer than the {self._max_rate_limit_wait:.0f} s we wait"
            )
        log.warning("rate limit spent; waiting %.0f s for it to reset", wait)
        self._sleep(wait)

    # -- plain REST -------------------------------------------------------------------------
    def rest(self, method: str, path: str, params: Any = None, body: Any = None) -> Any:
        """One REST call's decoded JSON, through the same retries, pacing and counting."""
        self.wait_for_rate_limit()
        _headers, data = self.api.requester.requestJsonAndCheck(
            method, path, parameters=params, input=body
        )
        return data

    def pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        per_page: int = 100,
        max_pages: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged GET, page after page until a short one.

        `key` names the list in answers that wrap it in an object (artifacts).
        """
        page = 1
        while max_pages is None or page <= max_pages:
            data = self.rest("GET", path, {**(params or {}), "per_page": per_page, "page": page})
            items = data.get(key, []) if key else data
            yield from items
            if len(items) < per_page:
                return
            page += 1

    # -- repositories ------------------------------------------------------------------------
    def repo(self, full_name: str) -> Repository:
        """A lazy Repository: no request until an attribute needs one."""
        found = self._repos.get(full_name)
        if found is None:
            if self._lazy_api is None:
                # Same retry (and so the same request counter); objects fetched on first use.
                self._lazy_api = self.api.withLazy(True)
                self._instrument(self._lazy_api.requester)
            found = self._lazy_api.get_repo(full_name)
            self._repos[full_name] = found
        return found

    def _paginated(self, cls: Any, path: str, params: dict[str, Any] | None = None) -> Any:
        from github.PaginatedList import PaginatedList

        return PaginatedList(cls, self.api.requester, path, {"per_page": 100, **(params or {})})

    # -- comments ----------------------------------------------------------------------------
    def iter_issue_comments(self, full_name: str, number: int) -> Iterator[IssueComment]:
        """Every comment of an issue or PR, 100 a page, following Link headers."""
        from github.IssueComment import IssueComment

        yield from self._paginated(IssueComment, f"/repos/{full_name}/issues/{number}/comments")

    def find_comment(
        self, full_name: str, number: int, marker: str, *, author: str | None = None
    ) -> IssueComment | None:
        """The first comment holding `marker` (optionally written by `author`), on any page."""
        for comment in self.iter_issue_comments(full_name, number):
            if marker in (comment.body or "") and (author is None or comment.user.login == author):
                return comment
        return None

    def upsert_comment(
        self, full_name: str, number: int, marker: str, body: str, *, author: str | None = None
    ) -> tuple[IssueComment, str]:
        """Edit the comment carrying `marker`, or create it.

        Returns the comment and what happened: created, updated or unchanged.
        """
        if marker not in body:
            raise ValueError(
                "the comment body must contain its marker, or it cannot be found again"
            )
        existing = self.find_comment(full_name, number, marker, author=author)
        if existing is None:
            from github.IssueComment import IssueComment

            _headers, data = self.api.requester.requestJsonAndCheck(
                "POST", f"/repos/{full_name}/issues/{number}/comments", input={"body": body}
            )
            return IssueComment(self.api.requester, _headers, data, completed=True), "created"
        if existing.body == body:
            return existing, "unchanged"
        existing.edit(body)
        return existing, "updated"

    # -- permissions and teams ---------------------------------------------------------------
    def permission(self, full_name: str, login: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        from github import UnknownObjectException

        try:
            _headers, data = self.api.requester.requestJsonAndCheck(
                "GET", f"/repos/{full_name}/collaborators/{login}/permission"
            )
        except UnknownObjectException:
            return "none"
        return str(data.get("role_name") or data.get("permission") or "none")

    def is_team_member(self, org: str, team_slug: str, login: str) -> bool:
        from github import UnknownObjectException

        try:
            _headers, data = self.api.requester.requestJsonAndCheck(
                "GET", f"/orgs/{org}/teams/{team_slug}/memberships/{login}"
            )
        except UnknownObjectException:
            return False
        return data.get("state") == "active"

    def team_members(self, org: str, team_slug: str) -> list[str]:
        from github.NamedUser import NamedUser

        return [
            u.login for u in self._paginated(NamedUser, f"/orgs/{org}/teams/{team_slug}/members")
        ]

    # -- actions -----------------------------------------------------------------------------
    def download_artifact(self, full_name: str, artifact_id: int) -> bytes:
        """The artifact's zip archive (GitHub answers with a redirect to blob storage)."""
        _status, _headers, chunks = self.api.requester.getStream(
            f"/repos/{full_name}/actions/artifacts/{artifact_id}/zip", chunk_size=65536
        )
        return b"".join(chunks)

    def read_artifact_file(self, full_name: str, artifact_id: int, name: str) -> bytes:
        """One file out of an artifact's zip (e.g. evaluation.json)."""
        data = self.download_artifact(full_name, artifact_id)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                return archive.read(name)
            except KeyError:
                raise InputError(
                    f"artifact {artifact_id} of {full_name} has no file {name!r} "
                    f"(it holds: {', '.join(archive.namelist()) or 'nothing'})"
                ) from None


class GitHubClientFactory:
    """Credentials in, one authenticated `GitHub` per job out."""

    def __init__(
        self,
        base_url: str,
        *,
        app_id: int | str | None = None,
        private_key: str | None = None,
        token: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: int = DEFAULT_TIMEOUT,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        secondary_rate_wait: float = 60.0,
        max_rate_limit_wait: float = 300.0,
        token_refresh_margin: float = TOKEN_REFRESH_MARGIN,
        user_agent: str = "mlbot",
        clock: Callable[[], float] = time.time,
        cache: ConditionalCache | bool | None = True,
    ) -> None:
        if app_id is not None and private_key:
            self._mode = "app"
        elif token:
            self._mode = "token"
        else:
            raise InputError(
                "GitHub credentials are missing: set MLBOT_APP_ID with MLBOT_PRIVATE_KEY "
                "(or MLBOT_PRIVATE_KEY_PATH), or MLBOT_GITHUB_TOKEN"
            )
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._private_key = private_key
        self._token = token
        self.max_retries = max_retries
        self.timeout = max(1, int(timeout))
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.secondary_rate_wait = secondary_rate_wait
        self.max_rate_limit_wait = max_rate_limit_wait
        self.token_refresh_margin = token_refresh_margin
        self.user_agent = user_agent
        self._clock = clock
        # Shared by every client this factory hands out, kept apart per installation;
        # False turns conditional requests off (the benchmarks' baseline).
        self.cache = ConditionalCache() if cache is True else None if cache is False else cache
        self._tokens: dict[int, _CachedToken] = {}
        self._lock = threading.Lock()
        # Requests spent fetching installation tokens (not charged to any job).
        self.token_counter = RequestCounter()

    def __repr__(self) -> str:
        return f"GitHubClientFactory(base_url={self.base_url!r}, mode={self._mode!r})"

    @property
    def uses_app(self) -> bool:
        return self._mode == "app"

    def _retry(self, counter: RequestCounter) -> CountingRetry:
        return CountingRetry(
            counter,
            total=self.max_retries,
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            secondary_rate_wait=self.secondary_rate_wait,
            max_rate_limit_wait=self.max_rate_limit_wait,
        )

    def _common(self, counter: RequestCounter) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "timeout": self.timeout,
            "user_agent": self.user_agent,
            "retry": self._retry(counter),
            "per_page": 100,
            # PyGithub spaces requests 0.25 s apart (1 s for writes) by default: far too slow
            # for a bot that answers a command; GitHub's limits are handled by the retry.
            "seconds_between_requests": None,
            "seconds_between_writes": None,
        }

    def for_installation(self, installation_id: int | None) -> GitHub:
        """A client for one job. App auth needs the installation id from the webhook."""
        from github import Auth, Github

        counter = RequestCounter()
        if self._mode == "app":
            if installation_id is None:
                raise InputError(
                    "this delivery names no installation, and a GitHub App can only act "
                    "through an installation"
                )
            auth = Auth.Token(self.installation_token(int(installation_id)))
            scope = f"installation:{int(installation_id)}"
        else:
            assert self._token is not None
            auth = Auth.Token(self._token)
            scope = "token"
        api = Github(auth=auth, **self._common(counter))
        return GitHub(
            api,
            counter,
            max_rate_limit_wait=self.max_rate_limit_wait,
            clock=self._clock,
            cache=self.cache,
            cache_scope=scope,
        )

    def installation_of(self, full_name: str) -> int | None:
        """The App's installation on a repository (None with a plain token): for work that
        comes without a webhook, such as an alert."""
        if self._mode != "app":
            return None
        from github import Auth, GithubIntegration

        assert self.app_id is not None and self._private_key is not None
        owner, _, name = full_name.partition("/")
        integration = GithubIntegration(
            auth=Auth.AppAuth(self.app_id, self._private_key), **self._common(self.token_counter)
        )
        return int(integration.get_repo_installation(owner, name).id)

    def installation_token(self, installation_id: int) -> str:
        """An installation access token, reused until `token_refresh_margin` before expiry."""
        with self._lock:
            cached = self._tokens.get(installation_id)
            if cached and cached.expires_at - self.token_refresh_margin > self._clock():
                return cached.token
            fresh = self._fetch_installation_token(installation_id)
            self._tokens[installation_id] = fresh
            return fresh.token

    def _fetch_installation_token(self, installation_id: int) -> _CachedToken:
        from github import Auth, GithubIntegration

        assert self.app_id is not None and self._private_key is not None
        integration = GithubIntegration(
            auth=Auth.AppAuth(self.app_id, self._private_key), **self._common(self.token_counter)
        )
        authorization = integration.get_access_token(installation_id)
        log.info(
            "installation %s: new access token until %s", installation_id, authorization.expires_at
        )
        return _CachedToken(authorization.token, authorization.expires_at.timestamp())
