"""The durable job queue: one SQLite row per webhook delivery.

The delivery id is the primary key of the work, so a redelivery cannot make
a second job. A row moves queued -> running -> done, or back to queued with a
later `next_run_at` after a transient failure, or to dead once it has failed
for good. A row left `running` by a crash is put back in the queue when the
server starts again (`recover`).

SQLite runs in WAL mode. Storing a delivery commits with `synchronous=FULL`
(an fsync), so an acknowledged delivery survives a crash of the process and
of the machine; `MLBOT_QUEUE_SYNC=normal` trades the machine-crash guarantee
for throughput (no fsync per commit; a crash of the bot still loses nothing).
The later state changes (claimed, done, retry) commit with
`synchronous=NORMAL`: they survive a crash of the process, and a power loss
can at worst forget the last ones, which only makes a job run again
(execution is at least once anyway). The payloads live in a table of their
own: a state change rewrites a whole row, and a row holding a payload of a
few kilobytes would be written out again (overflow pages and all) on every
claim and completion. Each thread uses its own connections;
writers in this process take a Python lock first, so they never spin on
SQLite's busy handler (which sleeps in steps of milliseconds).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
STATES = (QUEUED, RUNNING, DONE, DEAD)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     TEXT NOT NULL UNIQUE,
    event           TEXT NOT NULL,
    action          TEXT,
    installation_id INTEGER,
    state           TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    received_at     REAL NOT NULL,
    next_run_at     REAL NOT NULL,
    started_at      REAL,
    finished_at     REAL,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, next_run_at, seq);
CREATE TABLE IF NOT EXISTS payloads (
    seq     INTEGER PRIMARY KEY,
    payload BLOB NOT NULL
);
"""
_JOB_COLUMNS = "seq, delivery_id, event, action, installation_id, state, attempts, last_error"


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
class Outcome:
    """How a run of a job ended: DONE, DEAD, or QUEUED again to run at `run_at`."""

    seq: int
    state: str
    error: str | None = None
    run_at: float | None = None


def _job(row: tuple[object, ...], payload: bytes) -> Job:
    seq, delivery_id, event, action, installation_id, state, attempts, last_error = row
    return Job(
        seq,  # type: ignore[arg-type]
        delivery_id,  # type: ignore[arg-type]
        event,  # type: ignore[arg-type]
        action,  # type: ignore[arg-type]
        installation_id,  # type: ignore[arg-type]
        payload,
        state,  # type: ignore[arg-type]
        attempts,  # type: ignore[arg-type]
        last_error,  # type: ignore[arg-type]
    )


class JobStore:
    """All SQL lives here; callers see jobs, never rows."""

    def __init__(self, path: Path | str, intake_sync: str = "full") -> None:
        self.path = Path(path)
        if intake_sync not in ("full", "normal"):
            raise ValueError(f"unknown synchronous mode {intake_sync!r}")
        self._intake_sync = intake_sync.upper()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write = threading.Lock()

    def open(self) -> None:
        """Create the file and the table if needed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        self._move_payloads_out(conn)

    @staticmethod
    def _move_payloads_out(conn: sqlite3.Connection) -> None:
        """Upgrade a queue whose payloads are a column of `jobs` (before 0.x: one table)."""
        with_payload = "SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'payload'"
        if not conn.execute(with_payload).fetchall():
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute(with_payload).fetchall():  # not done meanwhile by another process
                conn.execute("INSERT OR IGNORE INTO payloads SELECT seq, payload FROM jobs")
                conn.execute("ALTER TABLE jobs DROP COLUMN payload")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _conn(self, durable: bool = False) -> sqlite3.Connection:
        name = "durable" if durable else "conn"
        conn = getattr(self._local, name, None)
        if conn is None:
            # isolation_level=None: we open transactions ourselves, explicitly.
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute(f"PRAGMA synchronous={self._intake_sync if durable else 'NORMAL'}")
            conn.execute("PRAGMA busy_timeout=30000")
            if durable:
                # Copying the log into the database (a checkpoint) is left to the
                # workers' connections, which commit often too: in the intake it
                # would double the writes an acknowledgement waits for.
                conn.execute("PRAGMA wal_autocheckpoint=0")
            setattr(self._local, name, conn)
            with self._lock:
                self._connections.append(conn)
        return conn

    # -- intake ---------------------------------------------------------------

    def insert_many(self, jobs: Iterable[NewJob]) -> list[bool]:
        """Store jobs in one transaction; True for each that was new, False for a redelivery."""
        batch = list(jobs)
        if not batch:
            return []
        conn = self._conn(durable=True)
        with self._write:
            return self._insert(conn, batch, time.time())

    @staticmethod
    def _insert(conn: sqlite3.Connection, batch: list[NewJob], now: float) -> list[bool]:
        # A handful of statements per batch, whatever its size. A delivery id
        # already stored conflicts and is not returned: that is a redelivery.
        rows: list[object] = []
        for job in batch:
            rows += (job.delivery_id, job.event, job.action, job.installation_id, now, now)
        # Only placeholders are joined into the SQL; every value is a parameter.
        values = ",".join(["(?, ?, ?, ?, ?, ?)"] * len(batch))
        sql = (
            "INSERT INTO jobs (delivery_id, event, action, installation_id,"  # noqa: S608
            f" received_at, next_run_at) VALUES {values}"
            " ON CONFLICT (delivery_id) DO NOTHING RETURNING seq, delivery_id"
        )
        conn.execute("BEGIN IMMEDIATE")
        try:
            stored = dict(row[::-1] for row in conn.execute(sql, rows).fetchall())
            results: list[bool] = []
            payloads: list[object] = []
            for job in batch:
                # A second copy within the batch is a redelivery of the first.
                seq = stored.pop(job.delivery_id, None)
                results.append(seq is not None)
                if seq is not None:
                    payloads += (seq, job.payload)
            if payloads:
                marks = ",".join(["(?, ?)"] * (len(payloads) // 2))
                conn.execute(f"INSERT INTO payloads (seq, payload) VALUES {marks}", payloads)  # noqa: S608
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return results

    # -- workers --------------------------------------------------------------

    def claim(self, now: float | None = None) -> Job | None:
        """Take the oldest due job and mark it running (one attempt more)."""
        jobs = self.claim_many(1, now)
        return jobs[0] if jobs else None

    def claim_many(self, limit: int, now: float | None = None) -> list[Job]:
        """Take up to `limit` of the oldest due jobs, oldest first, and mark them running.

        Looking costs a read; only when something is due does it write, so idle
        workers never take the write lock the intake needs.
        """
        now = time.time() if now is None else now
        due = [
            seq
            for (seq,) in self._conn().execute(
                "SELECT seq FROM jobs WHERE state = 'queued' AND next_run_at <= ?"
                " ORDER BY next_run_at, seq LIMIT ?",
                (now, limit),
            )
        ]
        if not due:
            return []
        marks = ",".join("?" * len(due))
        # state = 'queued' again: another process may have taken one meanwhile.
        rows = self._modify(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?"  # noqa: S608
            f" WHERE seq IN ({marks}) AND state = 'queued' RETURNING {_JOB_COLUMNS}",
            (now, *due),
        )
        if not rows:
            return []
        order = {seq: n for n, seq in enumerate(due)}
        rows.sort(key=lambda row: order[row[0]])  # type: ignore[index]
        # Read outside the write lock: a payload never changes once stored.
        marks = ",".join("?" * len(rows))
        payloads = dict(
            self._conn()
            .execute(
                f"SELECT seq, payload FROM payloads WHERE seq IN ({marks})",  # noqa: S608
                [row[0] for row in rows],
            )
            .fetchall()
        )
        return [_job(row, payloads.get(row[0], b"")) for row in rows]

    def _with_payload(self, row: tuple[object, ...]) -> Job:
        found = (
            self._conn().execute("SELECT payload FROM payloads WHERE seq = ?", (row[0],)).fetchone()
        )
        return _job(row, found[0] if found else b"")

    def _modify(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        """One write statement in its own transaction, under the process's write lock."""
        conn = self._conn()
        with self._write:
            return conn.execute(sql, params).fetchall()

    def complete(self, seq: int) -> None:
        self.finish_many([Outcome(seq, DONE)])

    def bury(self, seq: int, error: str) -> None:
        """Dead-letter a job: it will not run again."""
        self.finish_many([Outcome(seq, DEAD, error)])

    def retry_later(self, seq: int, run_at: float, error: str) -> None:
        self.finish_many([Outcome(seq, QUEUED, error, run_at)])

    def release(self, seqs: Iterable[int]) -> None:
        """Put claimed jobs that never started back in the queue, the attempt not counted."""
        self._many(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1"
            " WHERE seq = ? AND state = 'running'",
            [(seq,) for seq in seqs],
        )

    def finish_many(self, outcomes: Iterable[Outcome]) -> None:
        """Record how jobs ended (done, dead, or queued again for later) in one transaction."""
        now = time.time()
        rows: list[tuple[object, ...]] = []
        for o in outcomes:
            if o.state == QUEUED:
                rows.append((QUEUED, None, o.error, o.run_at, o.seq))
            elif o.state in (DONE, DEAD):
                rows.append((o.state, now, o.error, None, o.seq))
            else:
                raise ValueError(f"a job cannot end as {o.state!r}")
        self._many(
            "UPDATE jobs SET state = ?, finished_at = ?, last_error = ?,"
            " next_run_at = COALESCE(?, next_run_at) WHERE seq = ?",
            rows,
        )

    def _many(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        if not rows:
            return
        conn = self._conn()
        with self._write:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def recover(self, max_attempts: int) -> tuple[int, int]:
        """Requeue jobs a crash left running; bury those that already used every attempt.

        Returns (requeued, buried). A job that crashes the server every time it
        runs must not crash it forever, so a crash counts as an attempt.
        """
        conn = self._conn(durable=True)
        now = time.time()
        with self._write:
            return self._recover(conn, now, max_attempts)

    @staticmethod
    def _recover(conn: sqlite3.Connection, now: float, max_attempts: int) -> tuple[int, int]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            buried = conn.execute(
                "UPDATE jobs SET state = 'dead', finished_at = ?,"
                " last_error = 'interrupted by a restart on its last attempt'"
                " WHERE state = 'running' AND attempts >= ?",
                (now, max_attempts),
            ).rowcount
            requeued = conn.execute(
                "UPDATE jobs SET state = 'queued', next_run_at = ?,"
                " last_error = 'interrupted by a restart'"
                " WHERE state = 'running'",
                (now,),
            ).rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return requeued, buried

    def next_due(self) -> float | None:
        """When the next queued job becomes due, or None when the queue is empty."""
        row = (
            self._conn()
            .execute("SELECT MIN(next_run_at) FROM jobs WHERE state = 'queued'")
            .fetchone()
        )
        return row[0] if row else None

    def prune(self, older_than_seconds: float) -> int:
        """Forget finished jobs older than the redelivery window."""
        cutoff = time.time() - older_than_seconds
        conn = self._conn()
        with self._write:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "DELETE FROM payloads WHERE seq IN"
                    " (SELECT seq FROM jobs WHERE state = 'done' AND finished_at < ?)",
                    (cutoff,),
                )
                pruned = conn.execute(
                    "DELETE FROM jobs WHERE state = 'done' AND finished_at < ?", (cutoff,)
                ).rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return pruned

    # -- inspection -----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        found = dict(
            self._conn().execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        )
        return {state: int(found.get(state, 0)) for state in STATES}

    def get(self, delivery_id: str) -> Job | None:
        row = (
            self._conn()
            .execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE delivery_id = ?", (delivery_id,))  # noqa: S608
            .fetchone()
        )
        return self._with_payload(row) if row else None

    def ping(self) -> bool:
        """True when the database answers a query."""
        try:
            self._conn().execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True
