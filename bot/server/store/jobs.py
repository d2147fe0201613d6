"""What the server stores, and the one interface every backend implements.

A delivery is stored once (its `X-GitHub-Delivery` id is unique), becoming
a job. A job moves queued -> running -> done, or back to queued with a later
`next_run_at` after a transient failure, or to dead once it has failed for
good. A running job belongs to the store instance that claimed it (its
owner) until a lease runs out; `recover` puts the jobs of owners that are
gone back in the queue, so a replica that dies never strands its jobs.

The intake needs only `DeliveryStore`; the workers need `JobStore`. Each
backend (`bot.server.store.sqlite`, `bot.server.store.postgres`) implements
both, and `tests/server/test_store_backends.py` holds them to one behaviour.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
STATES = (QUEUED, RUNNING, DONE, DEAD)
# How long a claimed job is its owner's without a renewal (MLBOT_LEASE_SECONDS overrides).
DEFAULT_LEASE_SECONDS = 30.0


@dataclass(frozen=True)
class NewJob:
    """A verified delivery about to be stored."""

    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    payload: bytes


@dataclass(frozen=True)
class Job:
    """A stored delivery, as a worker or a test sees it."""

    seq: int
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    payload: bytes
    state: str
    attempts: int
    last_error: str | None = None


@dataclass(frozen=True)
class JobResult:
    """How a run of a job ended: DONE, DEAD, or QUEUED again to run at `run_at`."""

    seq: int
    state: str
    error: str | None = None
    run_at: float | None = None

    def __post_init__(self) -> None:
        if self.state not in (QUEUED, DONE, DEAD):
            raise ValueError(f"a job cannot end as {self.state!r}")


class DeliveryStore(Protocol):
    """The intake's side: store verified deliveries, once each."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def insert_many(self, jobs: Iterable[NewJob]) -> list[bool]:
        """Store jobs in one transaction; True for each that was new, False for a redelivery."""
        ...

    def ping(self) -> bool: ...


class JobStore(DeliveryStore, Protocol):
    """The workers' side: claim due jobs, record how they ended, take over the dead's."""

    def claim_many(self, limit: int, now: float | None = None) -> list[Job]:
        """Take up to `limit` of the oldest due jobs, oldest first, as running, this owner's."""
        ...

    def finish_many(self, outcomes: Iterable[JobResult]) -> None:
        """Record how jobs ended; a job this owner no longer holds is left alone."""
        ...

    def release(self, seqs: Iterable[int]) -> None:
        """Put claimed jobs that never started back in the queue, the attempt not counted."""
        ...

    def renew(self, now: float | None = None) -> int:
        """Extend the lease of every job this owner is running; how many it holds."""
        ...

    def recover(self, max_attempts: int, now: float | None = None) -> tuple[int, int]:
        """Requeue the running jobs of owners that are gone; bury those out of attempts.

        Returns (requeued, buried). A job that kills its worker every time it
        runs must not do so forever, so an interrupted run counts as an attempt.
        """
        ...

    def next_due(self) -> float | None:
        """When the next queued job becomes due, or None when the queue is empty."""
        ...

    def prune(self, older_than_seconds: float) -> int:
        """Forget finished jobs older than the redelivery window, their deliveries too."""
        ...

    def counts(self) -> dict[str, int]: ...

    def get(self, delivery_id: str) -> Job | None: ...

    def model_lock(self, repo: str, model: str) -> AbstractContextManager[None]:
        """Held around a registry write: one writer per model, across every replica."""
        ...

    def listen(self, wake: Callable[[int], None]) -> Callable[[], None]:
        """Call `wake` when another process stores jobs; returns a function that stops it."""
        ...

    def claim_redelivery(
        self, guid: str, now: float | None = None, again_after: float = 600.0
    ) -> bool:
        """True for the one caller, across replicas, that may ask GitHub to redeliver `guid`.

        Asked again only `again_after` seconds later (the redelivery itself may fail).
        """
        ...


class Conveniences:
    """One-job forms of the batch methods, for tests and tools; mixed into each backend."""

    def claim(self: JobStore, now: float | None = None) -> Job | None:
        jobs = self.claim_many(1, now)
        return jobs[0] if jobs else None

    def complete(self: JobStore, seq: int) -> None:
        self.finish_many([JobResult(seq, DONE)])

    def bury(self: JobStore, seq: int, error: str) -> None:
        """Dead-letter a job: it will not run again."""
        self.finish_many([JobResult(seq, DEAD, error)])

    def retry_later(self: JobStore, seq: int, run_at: float, error: str) -> None:
        self.finish_many([JobResult(seq, QUEUED, error, run_at)])


def new_owner() -> str:
    """The name a store instance claims jobs under: its host and process first, so that
    whoever reads the jobs table (an operator, a test) sees which replica runs a job; a
    random part keeps two instances of one process apart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def now_or(now: float | None) -> float:
    return time.time() if now is None else now
