"""Conditional requests: `ETag` and `Last-Modified` on answers, 304 when nothing changed.

GitHub tags every JSON answer with an `ETag` (a digest of the representation) and
single resources with `Last-Modified`; a GET with a matching `If-None-Match` (or,
without one, an `If-Modified-Since` not older than the resource) gets `304 Not
Modified` with no body, which does not count against the rate limit.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
from typing import TYPE_CHECKING

import pygit2

from bot.simulator.request import Response

if TYPE_CHECKING:
    from bot.simulator.request import RequestContext

CACHE_CONTROL = "private, max-age=60, s-maxage=60"
VARY = "Accept, Authorization, Cookie, X-GitHub-OTP"


def tag(ctx: RequestContext, operation_id: str, response: Response) -> None:
    """Serialise a JSON answer once, and give it its ETag (and Last-Modified)."""
    if not 200 <= response.status < 300 or response.status == 204:
        return
    if response.raw is None:
        if response.body is None:
            return
        response.raw = json.dumps(response.body).encode()
        response.headers.setdefault("Content-Type", "application/json; charset=utf-8")
    response.headers["ETag"] = f'W/"{hashlib.sha256(response.raw).hexdigest()[:32]}"'
    if ctx.method in ("GET", "HEAD"):
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.headers["Vary"] = VARY
        modified = last_modified(ctx, operation_id, response)
        if modified is not None:
            response.headers["Last-Modified"] = email.utils.formatdate(modified, usegmt=True)


def last_modified(ctx: RequestContext, operation_id: str, response: Response) -> float | None:
    """When the resource last changed, where GitHub says so: single objects and contents."""
    if operation_id == "repos/get-content":
        sha = ctx.resolve(ctx.query.get("ref"))
        return float(ctx.repo().store.get(sha).peel(pygit2.Commit).commit_time)
    if operation_id == "issues/get-label":
        label = ctx.repo().labels.get(ctx.params["name"])
        return label.updated_at if label else None
    body = response.body
    if isinstance(body, dict) and isinstance(body.get("updated_at"), str):
        try:
            return dt.datetime.fromisoformat(body["updated_at"].replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def not_modified(request_headers: dict[str, str], response: Response) -> Response | None:
    """The 304 to send instead of `response`, if the client's copy is current."""
    if response.status != 200:
        return None
    lowered = {k.lower(): v for k, v in request_headers.items()}
    current = response.headers.get("ETag")
    if "if-none-match" in lowered:
        if current is None or not _etag_matches(lowered["if-none-match"], current):
            return None
    elif "if-modified-since" in lowered and "Last-Modified" in response.headers:
        try:
            since = email.utils.parsedate_to_datetime(lowered["if-modified-since"]).timestamp()
        except (TypeError, ValueError):
            return None
        changed = email.utils.parsedate_to_datetime(response.headers["Last-Modified"]).timestamp()
        if changed > since:
            return None
    else:
        return None
    kept = {k: v for k, v in response.headers.items() if k in _KEPT_ON_304}
    return Response(304, None, kept)


_KEPT_ON_304 = {"ETag", "Last-Modified", "Cache-Control", "Vary"}


def _etag_matches(header: str, current: str) -> bool:
    """Weak comparison (RFC 9110): W/ prefixes aside, any listed tag equal to ours."""
    if header.strip() == "*":
        return True
    ours = current.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == ours for t in header.split(","))
