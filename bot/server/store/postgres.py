"""The networked store: PostgreSQL, shared by every replica (psycopg 3 and its pool).

- A delivery id is unique in `mlbot_deliveries`: a redelivery, to this
  replica or another, is recognised (`INSERT ... ON CONFLICT DO NOTHING`
  waits for a concurrent insert of the same id, then skips it).
- Jobs are claimed with `FOR UPDATE SKIP LOCKED`: replicas claiming at once
  take different jobs and never wait for each other.
- Storing jobs notifies `mlbot_jobs` in the same transaction; every
  replica's workers LISTEN, so a delivery acknowledged by one replica can
  wake the idle workers of another.
- A claimed job carries its owner and a lease the owner renews; once the
  lease runs out (the owner died, or lost the database), `recover` on any
  replica puts the job back in the queue. A late outcome from the old
  owner is ignored.
- `model_lock` is a transaction-scoped advisory lock on repository + model:
  held for the registry write, released by commit, rollback or a lost
  connection, so a dead replica never holds it.

Times are the replicas' clocks (seconds since the epoch), which must agree
to well within a lease.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from bot.server.store import postgres_schema
from bot.server.store.jobs import (
    DEFAULT_LEASE_SECONDS,
    QUEUED,
    STATES,
    Conveniences,
    Job,
    JobResult,
    NewJob,
    new_owner,
    now_or,
)

log = logging.getLogger("mlbot.store")

CHANNEL = "mlbot_jobs"  # notified by the trigger of migration 2
_JOB_COLUMNS = (
    "d.seq, d.delivery_id, d.event, d.action, d.installation_id, d.payload,"
    " j.state, j.attempts, j.last_error"
)
_CONNECT_SECONDS = 30.0


class StoreUnavailable(RuntimeError):
    pass


# Storing a batch of deliveries: one statement, so one round trip and one commit.
# Binary parameters (%b): a payload travels as its bytes, not as hex text that the
# client escapes and the server parses (a third of the batch's time for a 7 KB ping).
# The trigger of mlbot_jobs notifies the workers of every replica, once per batch.
INSERT_DELIVERIES = (
    "WITH new AS ("
    " INSERT INTO mlbot_deliveries"
    " (delivery_id, event, action, installation_id, received_at, payload)"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::bigint[],"
    " %b::float8[], %b::bytea[])"
    " ON CONFLICT (delivery_id) DO NOTHING"
    " RETURNING seq, delivery_id, received_at),"
    " queued AS (INSERT INTO mlbot_jobs (seq, next_run_at)"
    " SELECT seq, received_at FROM new)"
    " SELECT delivery_id FROM new"
)


def intake_connection_options(sync: str, connect_seconds: float) -> dict[str, Any]:
    """The intake's connection: autocommit; `sync` "on" waits for the WAL on disk."""
    return {
        "autocommit": True,
        "connect_timeout": int(connect_seconds),
        "options": f"-c synchronous_commit={sync}",
    }


def insert_parameters(batch: list[NewJob]) -> tuple[list[Any], ...]:
    """INSERT_DELIVERIES's parameters: the first copy of each delivery, in order (seqs
    follow arrival)."""
    unique = list({job.delivery_id: job for job in batch[::-1]}.values())[::-1]
    now = time.time()
    return (
        [j.delivery_id for j in unique],
        [j.event for j in unique],
        [j.action for j in unique],
        [j.installation_id for j in unique],
        [now] * len(unique),
        [j.payload for j in unique],
    )


def inserted(batch: list[NewJob], rows: list[tuple[Any, ...]]) -> list[bool]:
    """For each job of the batch, whether it was new (a second copy in one batch is not)."""
    stored = {row[0] for row in rows}
    results: list[bool] = []
    for job in batch:
        results.append(job.delivery_id in stored)
        stored.discard(job.delivery_id)
    return results


class PostgresStore(Conveniences):
    def __init__(
        self,
        url: str,
        shown: str,
        intake_sync: str = "full",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_connections: int = 8,
        connect_seconds: float = _CONNECT_SECONDS,
    ) -> None:
        if intake_sync not in ("full", "normal"):
            raise ValueError(f"unknown synchronous mode {intake_sync!r}")
        self._url = url
        self._shown = shown  # the URL without its password, for errors and logs
        self._lease = lease_seconds
        self._connect_seconds = connect_seconds
        self.owner = new_owner()
        # Each operation is one statement, so its own transaction: one round trip.
        # State changes do not wait for the WAL to reach the disk (as SQLite's
        # synchronous=NORMAL): a crash of the database can forget the last ones,
        # which only makes a job run again.
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(2, max_connections),
            kwargs={"autocommit": True, "options": "-c synchronous_commit=off"},
            open=False,
            name="mlbot",
        )
        # Storing deliveries has a connection of its own, outside the pool: it is the
        # acknowledgement's path, used by one writer (the group commit) at a time, and a
        # pool's checkout and return cost it a fraction of a millisecond per batch for
        # nothing. It waits for the WAL to reach the disk unless MLBOT_QUEUE_SYNC=normal:
        # a 202 promises the delivery survives. Made on first use, so only the queue
        # writer has one.
        self._intake_sync = "on" if intake_sync == "full" else "off"
        self._intake_conn: psycopg.Connection[Any] | None = None
        self._intake_lock = threading.Lock()

    def open(self) -> None:
        try:
            self._pool.open(wait=True, timeout=self._connect_seconds)
        except Exception as exc:
            self.close()
            raise StoreUnavailable(
                f"could not connect to PostgreSQL at {self._shown}: {type(exc).__name__}"
            ) from None
        with self._pool.connection() as conn:
            applied = postgres_schema.migrate(conn)
        if applied:
            log.info("database migrated", extra={"migrations": applied})

    def close(self) -> None:
        with self._intake_lock:
            if self._intake_conn is not None:
                self._intake_conn.close()
                self._intake_conn = None
        self._pool.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    # -- intake ---------------------------------------------------------------

    def insert_many(self, jobs: Iterable[NewJob]) -> list[bool]:
        batch = list(jobs)
        if not batch:
            return []
        params = insert_parameters(batch)
        with self._intake_lock:
            try:
                rows = self._insert(params)
            except psycopg.OperationalError:
                if self._intake_conn is None or not self._intake_conn.closed:
                    raise
                # The connection was lost while idle (the server restarted, a proxy
                # closed it): once more on a new one. Had the lost attempt committed,
                # its deliveries now read as redeliveries, which is still true.
                self._intake_conn = None
                rows = self._insert(params)
        return inserted(batch, rows)

    def _insert(self, params: tuple[list[Any], ...]) -> list[tuple[Any, ...]]:
        if self._intake_conn is None or self._intake_conn.closed:
            self._intake_conn = psycopg.connect(
                self._url, **intake_connection_options(self._intake_sync, self._connect_seconds)
            )
        return self._intake_conn.execute(INSERT_DELIVERIES, params, prepare=True).fetchall()

    # -- workers --------------------------------------------------------------

    def claim_many(self, limit: int, now: float | None = None) -> list[Job]:
        if limit <= 0:
            return []
        now = now_or(now)
        with self._pool.connection() as conn:
            rows = conn.execute(
                "WITH due AS ("  # noqa: S608 (fixed column list, every value a parameter)
                " SELECT seq FROM mlbot_jobs WHERE state = 'queued' AND next_run_at <= %(now)s"
                " ORDER BY next_run_at, seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED),"
                " j AS (UPDATE mlbot_jobs j SET state = 'running', attempts = j.attempts + 1,"
                " started_at = %(now)s, owner = %(owner)s, lease_until = %(lease)s"
                " FROM due WHERE j.seq = due.seq"
                " RETURNING j.seq, j.state, j.attempts, j.last_error, j.next_run_at)"
                f" SELECT {_JOB_COLUMNS} FROM j JOIN mlbot_deliveries d USING (seq)"
                " ORDER BY j.next_run_at, j.seq",
                {"now": now, "limit": limit, "owner": self.owner, "lease": now + self._lease},
            ).fetchall()
        return [Job(*row) for row in rows]

    def finish_many(self, outcomes: Iterable[JobResult]) -> None:
        now = time.time()
        batch = list(outcomes)
        if not batch:
            return
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE mlbot_jobs j SET state = o.state, finished_at = o.finished,"
                " last_error = o.error, owner = NULL,"
                " next_run_at = COALESCE(o.run_at, j.next_run_at)"
                " FROM unnest(%s::bigint[], %s::text[], %s::float8[], %s::text[], %s::float8[])"
                " AS o (seq, state, finished, error, run_at)"
                " WHERE j.seq = o.seq AND j.state = 'running' AND j.owner = %s",
                (
                    [o.seq for o in batch],
                    [o.state for o in batch],
                    [None if o.state == QUEUED else now for o in batch],
                    [o.error for o in batch],
                    [o.run_at for o in batch],
                    self.owner,
                ),
            )

    def release(self, seqs: Iterable[int]) -> None:
        seqs = list(seqs)
        if not seqs:
            return
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE mlbot_jobs SET state = 'queued', attempts = attempts - 1, owner = NULL"
                " WHERE seq = ANY(%s) AND state = 'running' AND owner = %s",
                (seqs, self.owner),
            )

    def renew(self, now: float | None = None) -> int:
        now = now_or(now)
        with self._pool.connection() as conn:
            return conn.execute(
                "UPDATE mlbot_jobs SET lease_until = %s WHERE state = 'running' AND owner = %s",
                (now + self._lease, self.owner),
            ).rowcount

    def recover(self, max_attempts: int, now: float | None = None) -> tuple[int, int]:
        now = now_or(now)
        with self._pool.connection() as conn:
            states = conn.execute(
                "UPDATE mlbot_jobs SET owner = NULL,"
                " state = CASE WHEN attempts >= %(max)s THEN 'dead' ELSE 'queued' END,"
                " finished_at = CASE WHEN attempts >= %(max)s THEN %(now)s END,"
                " next_run_at = CASE WHEN attempts >= %(max)s THEN next_run_at ELSE %(now)s END,"
                " last_error = CASE WHEN attempts >= %(max)s"
                " THEN 'its worker stopped on its last attempt'"
                " ELSE 'its worker stopped; taken over' END"
                " WHERE state = 'running' AND lease_until < %(now)s RETURNING state",
                {"max": max_attempts, "now": now},
            ).fetchall()
        buried = sum(1 for (state,) in states if state == "dead")
        return len(states) - buried, buried

    def next_due(self) -> float | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT MIN(next_run_at) FROM mlbot_jobs WHERE state = 'queued'"
            ).fetchone()
        return row[0] if row else None

    def prune(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        with self._pool.connection() as conn:
            # The job goes with its delivery (ON DELETE CASCADE).
            return conn.execute(
                "DELETE FROM mlbot_deliveries d USING mlbot_jobs j"
                " WHERE d.seq = j.seq AND j.state = 'done' AND j.finished_at < %s",
                (cutoff,),
            ).rowcount

    @contextlib.contextmanager
    def model_lock(self, repo: str, model: str) -> Iterator[None]:
        with self._transaction() as conn:
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{repo}\n{model}",)
            )
            yield

    def listen(self, wake: Callable[[int], None]) -> Callable[[], None]:
        stopping = threading.Event()
        thread = threading.Thread(
            target=self._listen, args=(wake, stopping), name="mlbot-listen", daemon=True
        )
        thread.start()

        def stop() -> None:
            stopping.set()
            thread.join(5)

        return stop

    def _listen(self, wake: Callable[[int], None], stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    wake(1)  # anything stored while not listening is found now
                    while not stopping.is_set():
                        for note in conn.notifies(timeout=0.5):
                            wake(int(note.payload) if note.payload.isdigit() else 1)
            except psycopg.Error:
                log.warning("lost the database's notifications; listening again")
                stopping.wait(1.0)

    def claim_redelivery(
        self, guid: str, now: float | None = None, again_after: float = 600.0
    ) -> bool:
        now = now_or(now)
        with self._pool.connection() as conn:
            return bool(
                conn.execute(
                    "INSERT INTO mlbot_redeliveries VALUES (%s, %s) ON CONFLICT (guid) DO UPDATE"
                    " SET requested_at = excluded.requested_at"
                    " WHERE mlbot_redeliveries.requested_at < %s RETURNING guid",
                    (guid, now, now - again_after),
                ).fetchall()
            )

    # -- inspection -----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self._pool.connection() as conn:
            found = dict(
                conn.execute("SELECT state, COUNT(*) FROM mlbot_jobs GROUP BY state").fetchall()
            )
        return {state: int(found.get(state, 0)) for state in STATES}

    def get(self, delivery_id: str) -> Job | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT {_JOB_COLUMNS} FROM mlbot_deliveries d JOIN mlbot_jobs j USING (seq)"  # noqa: S608
                " WHERE d.delivery_id = %s",
                (delivery_id,),
            ).fetchone()
        return Job(*row) if row else None

    def ping(self) -> bool:
        try:
            with self._pool.connection(timeout=2.0) as conn:
                conn.execute("SELECT 1 FROM mlbot_jobs LIMIT 1").fetchall()
        except Exception:
            return False
        return True
