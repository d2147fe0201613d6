"""Worker threads: take jobs from the queue, run their handlers, record the outcome.

Handlers are synchronous (PyGithub is) and run here, never in the request.
Outcomes:
- success: the job is done and never runs again;
- transient failure (`is_transient`): back in the queue after an exponential
  backoff with jitter (or the server's Retry-After, if longer), until
  `max_attempts` is used up;
- anything else, or the last attempt failing: dead-lettered, logged at error
  level with the traceback, counted in /metrics.

Execution is at least once: a job interrupted by a crash runs again after the
restart, so handlers must be idempotent (rebuild their state from GitHub, as
Prow's plugins do). Completion is recorded exactly once.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from pydantic import ValidationError

from bot.server.errors import is_transient, retry_after
from bot.server.logs import BoundLogger
from bot.server.metrics import Metrics, event_label
from bot.server.queue import Job, JobStore
from bot.server.settings import Settings
from bot.webhooks.context import GitHubFactory, JobContext
from bot.webhooks.payloads import parse
from bot.webhooks.router import Router

log = logging.getLogger("mlbot.worker")

# Finished jobs are kept this long so a redelivery from GitHub is still recognised.
RETENTION_SECONDS = 14 * 24 * 3600
_PRUNE_EVERY_SECONDS = 3600
_IDLE_WAIT_SECONDS = 5.0


def backoff_seconds(attempts: int, settings: Settings, server_wait: float | None = None) -> float:
    """Delay before the next attempt: exponential, capped, with jitter; at least Retry-After."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempts - 1))
    delay = ceiling * random.uniform(0.5, 1.0)  # jitter: retries of many jobs do not align
    if server_wait is not None:
        delay = max(delay, server_wait)
    return delay


class WorkerPool:
    def __init__(
        self,
        store: JobStore,
        router: Router,
        settings: Settings,
        metrics: Metrics,
        github_factory: GitHubFactory,
    ) -> None:
        self._store = store
        self._router = router
        self._settings = settings
        self._metrics = metrics
        self._github_factory = github_factory
        self._handled = frozenset(router.events())
        self._cond = threading.Condition()
        self._generation = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._last_prune = 0.0
        self._prune_lock = threading.Lock()

    def start(self) -> None:
        requeued, buried = self._store.recover(self._settings.max_attempts)
        if requeued or buried:
            log.warning(
                "jobs interrupted by a restart",
                extra={"requeued": requeued, "dead_lettered": buried},
            )
        self._stopping = False
        for n in range(self._settings.workers):
            thread = threading.Thread(target=self._loop, name=f"mlbot-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self, count: int = 1) -> None:
        """New jobs were stored: as many idle workers look again (waking all would thrash)."""
        if count <= 0:
            return
        with self._cond:
            self._generation += 1
            self._cond.notify(count)

    def stop(self, timeout: float = 10.0) -> None:
        """Let running jobs finish (up to timeout); one still running is resumed next start."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]

    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def _loop(self) -> None:
        while not self._stopping:
            generation = self._generation
            try:
                self._maybe_prune()
                job = self._store.claim()
            except Exception:
                log.exception("the queue could not be read; retrying")
                time.sleep(1.0)
                continue
            if job is not None:
                self._run(job)
                continue
            with self._cond:
                if self._generation == generation and not self._stopping:
                    self._cond.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        try:
            due = self._store.next_due()
        except Exception:
            return 1.0
        if due is None:
            return _IDLE_WAIT_SECONDS
        return min(_IDLE_WAIT_SECONDS, max(0.0, due - time.time()))

    def _maybe_prune(self) -> None:
        now = time.monotonic()
        with self._prune_lock:
            if self._last_prune and now - self._last_prune < _PRUNE_EVERY_SECONDS:
                return
            self._last_prune = now
        self._store.prune(RETENTION_SECONDS)

    def _run(self, job: Job) -> None:
        bound = BoundLogger(
            log,
            {
                "delivery_id": job.delivery_id,
                "event": job.event,
                "action": job.action,
                "attempt": job.attempts,
            },
        )
        ctx = JobContext(
            delivery_id=job.delivery_id,
            event=job.event,
            action=job.action,
            installation_id=job.installation_id,
            attempt=job.attempts,
            settings=self._settings,
            log=bound,
            github_factory=self._github_factory,
            handled_events=self._handled,
        )
        label = event_label(job.event, self._handled)
        started = time.monotonic()
        try:
            payload = parse(job.event, job.payload)
            handlers = self._router.dispatch(payload, ctx)
        except Exception as exc:
            elapsed = time.monotonic() - started
            self._metrics.job_duration.labels(label).observe(elapsed)
            self._count_github(ctx, label)
            self._failed(job, exc, bound, label, elapsed)
            return
        elapsed = time.monotonic() - started
        self._metrics.job_duration.labels(label).observe(elapsed)
        requests = self._count_github(ctx, label)
        self._store.complete(job.seq)
        self._metrics.jobs.labels(label, "done").inc()
        bound.info(
            "job done",
            extra={
                "handlers": handlers,
                "duration_ms": round(elapsed * 1000, 1),
                "github_requests": requests,
            },
        )

    def _failed(
        self, job: Job, exc: Exception, bound: BoundLogger, label: str, elapsed: float
    ) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        transient = is_transient(exc) and not isinstance(exc, ValidationError)
        if transient:
            self._metrics.github_errors.labels("transient").inc()
        elif _from_github(exc):
            self._metrics.github_errors.labels("permanent").inc()
        if transient and job.attempts < self._settings.max_attempts:
            delay = backoff_seconds(job.attempts, self._settings, retry_after(exc))
            self._store.retry_later(job.seq, time.time() + delay, reason)
            self._metrics.jobs.labels(label, "retry").inc()
            bound.warning(
                "job failed, will retry",
                extra={
                    "error": reason,
                    "retry_in_s": round(delay, 2),
                    "attempts_left": self._settings.max_attempts - job.attempts,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            return
        self._store.bury(job.seq, reason)
        self._metrics.jobs.labels(label, "dead").inc()
        bound.error(
            "job dead-lettered",
            extra={"error": reason, "transient": transient},
            exc_info=(type(exc), exc, exc.__traceback__),
        )

    def _count_github(self, ctx: JobContext, label: str) -> int | None:
        client = ctx.github_if_used()
        count = getattr(client, "request_count", None) if client is not None else None
        if isinstance(count, int) and count > 0:
            self._metrics.github_requests.labels(label).inc(count)
        return count if isinstance(count, int) else None


def _from_github(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("github", "bot.github", "httpx", "requests", "urllib3"))
