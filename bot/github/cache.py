"""Conditional requests: remember GET answers by their validators, so a repeat costs nothing.

GitHub tags its answers with `ETag` (and single resources with `Last-Modified`); a GET
that sends them back as `If-None-Match` / `If-Modified-Since` gets `304 Not Modified`
with no body when nothing changed, and a 304 does not count against the installation's
hourly rate limit. The bot reads the same things job after job (CODEOWNERS and
`.github/mlbot.yml` blobs, the registry's refs and trees, reviews, comment lists), so
each worker's clients share one `ConditionalCache`:

- every GET is revalidated, never served unasked: GitHub's `max-age=60` would let a
  client reuse an answer for a minute, and a gate must not judge a minute-old
  CODEOWNERS or review list;
- entries are kept per *scope* (one installation, or the plain token), so one
  installation's answer is never served to another;
- the cache is bounded (entries and bytes, least recently used dropped first) and
  thread-safe: a job's parallel reads and the worker threads share it.

Neither PyGithub nor its requests/urllib3 stack revalidates answers (CacheControl or
requests-cache would need PyGithub's private session), so this wraps PyGithub's public
`Requester.requestJson`, through which every JSON request passes.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_ENTRIES = 4096
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class _Entry:
    etag: str | None
    last_modified: str | None
    headers: dict[str, Any]
    body: str

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(str(v)) for k, v in self.headers.items())


@dataclass
class CacheStats:
    """What the cache did: answers stored, and requests it made conditional / saved."""

    stored: int = 0
    conditional: int = 0  # GETs sent with a validator
    not_modified: int = 0  # of those, answered 304 and served from the cache
    evicted: int = 0


class ConditionalCache:
    """GET answers and their validators, per scope, bounded, shared across threads."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def _get(self, key: tuple[str, ...]) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _put(self, key: tuple[str, ...], entry: _Entry) -> None:
        if entry.size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._entries[key] = entry
            self._bytes += entry.size
            self.stats.stored += 1
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _key, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.size
                self.stats.evicted += 1

    def _drop(self, key: tuple[str, ...]) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size

    def wrap(self, scope: str, request_json: Callable[..., Any]) -> Callable[..., Any]:
        """`Requester.requestJson`, made conditional for GETs within `scope`."""

        def conditional(
            verb: str,
            url: str,
            parameters: dict[str, Any] | None = None,
            headers: dict[str, Any] | None = None,
            input: Any | None = None,
            cnx: Any = None,
            follow_302_redirect: bool = False,
        ) -> tuple[int, dict[str, Any], str]:
            if verb != "GET" or input is not None:
                return request_json(verb, url, parameters, headers, input, cnx, follow_302_redirect)
            sent = dict(headers or {})
            key = (
                scope,
                url,
                json.dumps(parameters or {}, sort_keys=True, default=str),
                str(sent.get("Accept", "")),
            )
            entry = self._get(key)
            if entry is not None:
                if entry.etag:
                    sent["If-None-Match"] = entry.etag
                if entry.last_modified:
                    sent["If-Modified-Since"] = entry.last_modified
                with self._lock:
                    self.stats.conditional += 1
            status, answer, body = request_json(
                verb, url, parameters, sent, input, cnx, follow_302_redirect
            )
            if status == 304 and entry is not None:
                with self._lock:
                    self.stats.not_modified += 1
                # The stored body, with what the 304 says now (rate limit, validators).
                return 200, {**entry.headers, **answer}, entry.body
            if status == 200:
                etag, modified = _header(answer, "etag"), _header(answer, "last-modified")
                if etag or modified:
                    self._put(key, _Entry(etag, modified, dict(answer), body))
            elif entry is not None:
                self._drop(key)
            return status, answer, body

        return conditional


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None
