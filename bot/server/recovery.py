"""Missed deliveries come back: GitHub never redelivers a failed delivery by itself.

On start and every `MLBOT_RECOVERY_SECONDS`, the workers list the App's
webhook deliveries (`GET /app/hook/deliveries`, newest first, cursor pages,
with the App's JWT) back to the last check, and ask GitHub to send again
(`POST /app/hook/deliveries/{id}/attempts`) each event (GUID) that no
attempt delivered and that the store does not hold (an attempt GitHub saw
fail may still have been stored: a timeout after the commit). GitHub lists
an attempt once it has finished, so nothing listed is still on its way in;
should a delivery GitHub gave up on be stored just after the look, its
redelivery is answered 200 as a duplicate and runs nothing. The store's
`claim_redelivery` lets one replica ask, and asks again only ten minutes
later. A check spends at most a tenth of the rate limit left, and at most
`MAX_PER_CHECK` redeliveries; what it leaves is found by the next one.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from bot.server.settings import Settings
from bot.server.store.jobs import JobStore

log = logging.getLogger("mlbot.recovery")

MAX_PER_CHECK = 100
MAX_PAGES = 10
BUDGET_SHARE = 0.1
# Deliveries older than the last check by this much are looked at again: clocks differ,
# and an attempt is listed when it ends (up to GitHub's 10 s timeout after `delivered_at`).
OVERLAP_SECONDS = 300.0
FIRST_LOOK_BACK_SECONDS = 24 * 3600.0


class AppDeliveries:
    """The App's delivery log on GitHub, read and redelivered with the App's JWT."""

    def __init__(self, base_url: str, app_id: int, private_key: str, timeout: float = 10) -> None:
        from github import Auth

        self._auth = Auth.AppAuth(app_id, private_key)
        self._http = httpx.Client(base_url=base_url, timeout=timeout)
        self.remaining: int | None = None

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._auth.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "mlbot",
        }

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, url, headers=self._headers(), **kwargs)
        left = response.headers.get("x-ratelimit-remaining")
        if left is not None and left.isdigit():
            self.remaining = int(left)
        response.raise_for_status()
        return response

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of attempts, newest first."""
        url: str | None = "/app/hook/deliveries"
        params: dict[str, Any] | None = {"per_page": 100}
        while url is not None:
            response = self._send("GET", url, params=params)
            yield response.json()
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries them

    def redeliver(self, delivery_id: int) -> None:
        self._send("POST", f"/app/hook/deliveries/{int(delivery_id)}/attempts")

    def close(self) -> None:
        self._http.close()


@dataclass(frozen=True)
class Checked:
    listed: int
    redelivered: int
    left_for_later: int


def _when(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def check(api: AppDeliveries, store: JobStore, since: float) -> Checked:
    """Redeliver what failed since `since` and never reached the store."""
    delivered: set[str] = set()
    failed: dict[str, dict[str, Any]] = {}  # guid -> its latest attempt
    listed = 0
    for number, page in enumerate(api.pages()):
        for attempt in page:
            listed += 1
            guid = str(attempt.get("guid") or "")
            if not guid:
                continue
            if 200 <= int(attempt.get("status_code") or 0) < 300:
                delivered.add(guid)
            else:
                failed.setdefault(guid, attempt)
        oldest = min((_when(a["delivered_at"]) for a in page if a.get("delivered_at")), default=0)
        if not page or oldest < since or number + 1 >= MAX_PAGES:
            break
    missed = [
        attempt
        for guid, attempt in failed.items()
        if guid not in delivered and since <= _when(attempt["delivered_at"])
    ]
    missed.sort(key=lambda a: _when(a["delivered_at"]))  # oldest first, as they happened
    budget = MAX_PER_CHECK
    if api.remaining is not None:
        budget = min(budget, int(api.remaining * BUDGET_SHARE))
    redelivered = 0
    left = 0
    for attempt in missed:
        guid = str(attempt["guid"])
        if store.get(guid) is not None:
            continue  # stored after all; GitHub saw the answer fail
        if redelivered >= budget:
            left += 1
            continue
        if not store.claim_redelivery(guid):
            continue  # another replica asked
        api.redeliver(int(attempt["id"]))
        redelivered += 1
    return Checked(listed, redelivered, left)


class Recovery:
    """A thread of the workers: a check on start, then one every `interval` seconds."""

    def __init__(self, settings: Settings, store: JobStore, metrics: Any) -> None:
        self._settings = settings
        self._store = store
        self._metrics = metrics
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def wanted(settings: Settings) -> bool:
        """Only an App has a delivery log to read."""
        return (
            settings.recovery_seconds > 0
            and settings.app_id is not None
            and bool(settings.private_key_pem())
        )

    def start(self) -> None:
        # PyGithub's package imports itself in a circle: imported for the first time by this
        # thread and a worker at once, one of them sees it half-initialised (ImportError).
        # Finish the import here, before either thread starts.
        import github  # noqa: F401

        self._thread = threading.Thread(target=self._run, name="mlbot-recovery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        key = self._settings.private_key_pem()
        assert self._settings.app_id is not None and key
        api = AppDeliveries(self._settings.github_url, self._settings.app_id, key)
        since = time.time() - FIRST_LOOK_BACK_SECONDS
        try:
            while not self._stopping.is_set():
                started = time.time()
                try:
                    checked = check(api, self._store, since)
                except Exception:
                    log.exception("the App's deliveries could not be checked; trying later")
                else:
                    since = started - OVERLAP_SECONDS
                    if checked.redelivered:
                        self._metrics.deliveries_recovered.labels("redelivered").inc(
                            checked.redelivered
                        )
                    log.info(
                        "missed deliveries checked",
                        extra={
                            "listed": checked.listed,
                            "redelivered": checked.redelivered,
                            "left_for_later": checked.left_for_later,
                        },
                    )
                self._stopping.wait(self._settings.recovery_seconds)
        finally:
            api.close()
