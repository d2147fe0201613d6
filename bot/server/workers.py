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

import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable

from pydantic import ValidationError

from bot.server.errors import is_transient, retry_after
from bot.server.logs import BoundLogger
from bot.server.metrics import Metrics, event_label
from bot.server.recovery import Recovery
from bot.server.settings import Settings
from bot.server.store.jobs import DEAD, DONE, QUEUED, Job, JobResult, JobStore
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
    """A dispatcher thread that talks to the queue, and threads that run the handlers.

    Only the dispatcher reads and writes the queue: it claims as many due jobs
    as there are idle threads in one transaction, and records the outcomes
    that came back meanwhile in one transaction. Per job, that is a fraction
    of a write instead of two, and the intake, which needs the same SQLite
    write lock to acknowledge deliveries, rarely finds it taken.
    """

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
        self._woken = True  # look for work first thing
        self._stopping = False
        self._todo: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._finished: list[JobResult] = []
        self._busy = 0
        self._runners: list[threading.Thread] = []
        self._dispatcher: threading.Thread | None = None
        self._last_prune = 0.0
        self._stop_deadline = 0.0
        # Leases are renewed three times per lease, and taken over from dead owners twice.
        self._upkeep_every = settings.lease_seconds / 3
        self._next_upkeep = 0.0
        self._unlisten: Callable[[], None] = lambda: None
        self._recovery: Recovery | None = None

    def start(self) -> None:
        self._recover()
        self._next_upkeep = time.monotonic() + self._upkeep_every
        self._unlisten = self._store.listen(self.wake)
        if Recovery.wanted(self._settings):
            self._recovery = Recovery(self._settings, self._store, self._metrics)
            self._recovery.start()
        self._stopping = False
        self._woken = True
        # PyGithub imported here, once: its first import in two worker threads at once can
        # see the package half initialised (a circular import inside PyGithub) and fail a job.
        import github  # noqa: F401

        for n in range(self._settings.workers):
            thread = threading.Thread(target=self._runner, name=f"mlbot-worker-{n}", daemon=True)
            thread.start()
            self._runners.append(thread)
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="mlbot-dispatcher", daemon=True
        )
        self._dispatcher.start()

    def wake(self, count: int = 1) -> None:
        """New jobs were stored."""
        if count <= 0:
            return
        with self._cond:
            self._woken = True
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> None:
        """Let running jobs finish (up to timeout); one still running is resumed next start."""
        self._unlisten()
        if self._recovery is not None:
            self._recovery.stop()
        with self._cond:
            self._stopping = True
            self._stop_deadline = time.monotonic() + timeout
            self._cond.notify()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout + 1.0)
        for thread in self._runners:
            thread.join(max(0.0, self._stop_deadline - time.monotonic()))
        self._runners = [t for t in self._runners if t.is_alive()]

    def alive(self) -> bool:
        dispatcher = self._dispatcher
        return (
            dispatcher is not None
            and dispatcher.is_alive()
            and bool(self._runners)
            and all(t.is_alive() for t in self._runners)
        )

    # -- the dispatcher -------------------------------------------------------

    def _has_news(self) -> bool:
        return self._stopping or bool(self._finished) or (self._woken and self._idle())

    def _idle(self) -> int:
        return self._settings.workers - self._busy

    def _dispatch(self) -> None:
        try:
            while True:
                with self._cond:
                    news, idle = self._has_news(), self._idle()
                if not news:
                    # Every thread busy: one that finishes says so. Otherwise sleep
                    # until new jobs are stored, or the next retry comes due;
                    # never past the next renewal of the leases.
                    timeout = self._idle_wait() if idle else None  # a read: not under the lock
                    upkeep = max(0.0, self._next_upkeep - time.monotonic())
                    timeout = upkeep if timeout is None else min(timeout, upkeep)
                    with self._cond:
                        if not self._has_news() and not self._cond.wait(timeout):
                            self._woken = True
                if time.monotonic() >= self._next_upkeep:
                    self._upkeep()
                with self._cond:
                    finished, self._finished = self._finished, []
                    idle, stopping = self._idle(), self._stopping
                    woken = self._woken and idle > 0
                    if woken:
                        self._woken = False
                self._record(finished)
                if stopping:
                    break
                if woken:
                    self._claim(idle)
        finally:
            self._finish_on_stop()

    def _record(self, finished: list[JobResult]) -> None:
        while finished:
            try:
                self._store.finish_many(finished)
                return
            except Exception:
                # Not recorded, not lost: the jobs stay running until it works,
                # or a restart puts them back in the queue to run again.
                log.exception("the queue could not record finished jobs; retrying")
                if self._stopping:
                    return
                time.sleep(1.0)

    def _claim(self, idle: int) -> None:
        try:
            self._maybe_prune()
            jobs = self._store.claim_many(idle)
        except Exception:
            log.exception("the queue could not be read; retrying")
            time.sleep(1.0)
            with self._cond:
                self._woken = True
            return
        with self._cond:
            self._busy += len(jobs)
            # Every idle thread got one: more may be due, to claim when one frees.
            if jobs and len(jobs) == idle:
                self._woken = True
        for job in jobs:
            self._todo.put(job)

    def _finish_on_stop(self) -> None:
        """Stop the runners once their job is done; record the outcomes that come back."""
        for _ in self._runners:
            self._todo.put(None)
        while True:
            with self._cond:
                finished, self._finished = self._finished, []
            self._record(finished)
            if not any(t.is_alive() for t in self._runners):
                break
            if time.monotonic() > self._stop_deadline:
                return  # what still runs is requeued by the next start
            with self._cond:
                if not self._finished:
                    self._cond.wait(0.05)
        # Claimed but never started (the runners stopped first): not an attempt.
        unstarted: list[int] = []
        with contextlib.suppress(queue.Empty):
            while True:
                job = self._todo.get_nowait()
                if job is not None:
                    unstarted.append(job.seq)
        if unstarted:
            try:
                self._store.release(unstarted)
            except Exception:
                log.exception("the queue could not take back unstarted jobs")

    def _recover(self) -> None:
        requeued, buried = self._store.recover(self._settings.max_attempts)
        if requeued or buried:
            log.warning(
                "jobs whose worker stopped taken over",
                extra={"requeued": requeued, "dead_lettered": buried},
            )
            with self._cond:
                self._woken = True

    def _upkeep(self) -> None:
        """Keep this owner's leases, and take over the jobs of owners whose lease ran out."""
        self._next_upkeep = time.monotonic() + self._upkeep_every
        try:
            self._store.renew()
            self._recover()
        except Exception:
            log.exception("the store could not renew the leases; retrying")

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
        if self._last_prune and now - self._last_prune < _PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        self._store.prune(RETENTION_SECONDS)

    # -- the runners ----------------------------------------------------------

    def _runner(self) -> None:
        while (job := self._todo.get()) is not None:
            try:
                outcome = self._run(job)
            except Exception as exc:  # a bug outside the handler: never leave the job running
                log.exception("a worker failed outside a handler")
                outcome = JobResult(job.seq, DEAD, f"{type(exc).__name__}: {exc}"[:2000])
            with self._cond:
                self._busy -= 1
                self._woken = True  # a thread is free: there may be more to claim
                self._finished.append(outcome)
                self._cond.notify()

    def _run(self, job: Job) -> JobResult:
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
            model_lock=self._store.model_lock,
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
            return self._failed(job, exc, bound, label, elapsed)
        elapsed = time.monotonic() - started
        self._metrics.job_duration.labels(label).observe(elapsed)
        requests = self._count_github(ctx, label)
        self._metrics.jobs.labels(label, "done").inc()
        bound.info(
            "job done",
            extra={
                "handlers": handlers,
                "duration_ms": round(elapsed * 1000, 1),
                "github_requests": requests,
            },
        )
        return JobResult(job.seq, DONE)

    def _failed(
        self, job: Job, exc: Exception, bound: BoundLogger, label: str, elapsed: float
    ) -> JobResult:
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        transient = is_transient(exc) and not isinstance(exc, ValidationError)
        if transient:
            self._metrics.github_errors.labels("transient").inc()
        elif _from_github(exc):
            self._metrics.github_errors.labels("permanent").inc()
        if transient and job.attempts < self._settings.max_attempts:
            delay = backoff_seconds(job.attempts, self._settings, retry_after(exc))
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
            return JobResult(job.seq, QUEUED, reason, time.time() + delay)
        self._metrics.jobs.labels(label, "dead").inc()
        bound.error(
            "job dead-lettered",
            extra={"error": reason, "transient": transient},
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        return JobResult(job.seq, DEAD, reason)

    def _count_github(self, ctx: JobContext, label: str) -> int | None:
        client = ctx.github_if_used()
        count = getattr(client, "request_count", None) if client is not None else None
        if isinstance(count, int) and count > 0:
            self._metrics.github_requests.labels(label).inc(count)
        return count if isinstance(count, int) else None


def _from_github(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("github", "bot.github", "httpx", "requests", "urllib3"))
