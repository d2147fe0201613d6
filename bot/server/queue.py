"""The durable job queue: one SQLite table, one row per webhook delivery.

The delivery id is the primary key of the work, so a redelivery cannot make
a second job. A row moves queued -> running -> done, or back to queued with a
later `next_run_at` after a transient failure, or to dead once it has failed
for good. A row left `running` by a crash is put back in the queue when the
server starts again (`recover`).

SQLite runs in WAL mode with `synchronous=FULL`, so a committed row survives
a crash of the process and of the machine. Each thread uses its own
connection; writers queue on SQLite's lock (`busy_timeout`).
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
    payload         BLOB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    received_at     REAL NOT NULL,
    next_run_at     REAL NOT NULL,
    started_at      REAL,
    finished_at     REAL,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, next_run_at, seq);
"""


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


class JobStore:
    """All SQL lives here; callers see jobs, never rows."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """Create the file and the table if needed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we open transactions ourselves, explicitly.
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    # -- intake ---------------------------------------------------------------

    def insert_many(self, jobs: Iterable[NewJob]) -> list[bool]:
        """Store jobs in one transaction; True for each that was new, False for a redelivery."""
        conn = self._conn()
        now = time.time()
        results: list[bool] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for job in jobs:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO jobs (delivery_id, event, action, installation_id,"
                    " payload, received_at, next_run_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        job.delivery_id,
                        job.event,
                        job.action,
                        job.installation_id,
                        job.payload,
                        now,
                        now,
                    ),
                )
                results.append(cur.rowcount == 1)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return results

    # -- workers --------------------------------------------------------------

    def claim(self, now: float | None = None) -> Job | None:
        """Take the oldest due job and mark it running (one attempt more)."""
        now = time.time() if now is None else now
        conn = self._conn()
        rows = conn.execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?"
            " WHERE seq = (SELECT seq FROM jobs WHERE state = 'queued' AND next_run_at <= ?"
            "              ORDER BY next_run_at, seq LIMIT 1)"
            " RETURNING seq, delivery_id, event, action, installation_id, payload, state,"
            " attempts, last_error",
            (now, now),
        ).fetchall()
        return Job(*rows[0]) if rows else None

    def complete(self, seq: int) -> None:
        self._finish(seq, DONE, None)

    def bury(self, seq: int, error: str) -> None:
        """Dead-letter a job: it will not run again."""
        self._finish(seq, DEAD, error)

    def _finish(self, seq: int, state: str, error: str | None) -> None:
        self._conn().execute(
            "UPDATE jobs SET state = ?, finished_at = ?, last_error = ? WHERE seq = ?",
            (state, time.time(), error, seq),
        )

    def retry_later(self, seq: int, run_at: float, error: str) -> None:
        self._conn().execute(
            "UPDATE jobs SET state = 'queued', next_run_at = ?, last_error = ? WHERE seq = ?",
            (run_at, error, seq),
        )

    def recover(self, max_attempts: int) -> tuple[int, int]:
        """Requeue jobs a crash left running; bury those that already used every attempt.

        Returns (requeued, buried). A job that crashes the server every time it
        runs must not crash it forever, so a crash counts as an attempt.
        """
        conn = self._conn()
        now = time.time()
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
        return (
            self._conn()
            .execute("DELETE FROM jobs WHERE state = 'done' AND finished_at < ?", (cutoff,))
            .rowcount
        )

    # -- inspection -----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        found = dict(
            self._conn().execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        )
        return {state: int(found.get(state, 0)) for state in STATES}

    def get(self, delivery_id: str) -> Job | None:
        row = (
            self._conn()
            .execute(
                "SELECT seq, delivery_id, event, action, installation_id, payload, state,"
                " attempts, last_error FROM jobs WHERE delivery_id = ?",
                (delivery_id,),
            )
            .fetchone()
        )
        return Job(*row) if row else None

    def ping(self) -> bool:
        """True when the database answers a query."""
        try:
            self._conn().execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True
