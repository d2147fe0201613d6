"""The durable job queue: SQLite, in two files with one writer each.

- The inbox (`<name>.inbox<suffix>` beside `MLBOT_DATABASE`) holds each
  delivery as it arrived, payload included; only the intake writes to it, and
  only to append. The delivery id is unique there, so a redelivery cannot
  make a second job.
- The jobs file (`MLBOT_DATABASE`) holds each job's state, written only by
  the workers. A job moves queued -> running -> done, or back to queued with a
  later `next_run_at` after a transient failure, or to dead once it has
  failed for good. A job left `running` by a crash is put back in the queue
  when the server starts again (`recover`). The workers take the inbox's new
  deliveries in as queued jobs (`_import`) before they claim.

Why two files: SQLite has one write lock per file. With one file, the intake
waited whenever a worker was committing, and the workers run at a low
priority, so a worker preempted while holding the lock held every
acknowledgement up with it (stalls of tens of milliseconds under load, which
SQLite's busy handler lengthened by sleeping in steps of milliseconds). Now
the acknowledgement path never waits for a worker.

Both run in WAL mode. Storing a delivery commits with `synchronous=FULL` (an
fsync), so an acknowledged delivery survives a crash of the process and of
the machine; `MLBOT_QUEUE_SYNC=normal` trades the machine-crash guarantee for
throughput (no fsync per commit; a crash of the bot still loses nothing).
The state changes commit with `synchronous=NORMAL`: they survive a crash of
the process, and a power loss can at worst forget the last ones, which only
makes a job run again (execution is at least once anyway). A state change
rewrites a small row of its own, never a payload. Each thread uses its own
connections; writers in this process take a Python lock first, so they never
spin on SQLite's busy handler.
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

# AUTOINCREMENT: a pruned seq is never handed out again, so a job row can
# never meet another delivery's payload.
_INBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox.deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     TEXT NOT NULL UNIQUE,
    event           TEXT NOT NULL,
    action          TEXT,
    installation_id INTEGER,
    received_at     REAL NOT NULL,
    payload         BLOB NOT NULL
);
"""
_JOBS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    seq         INTEGER PRIMARY KEY,
    state       TEXT NOT NULL DEFAULT 'queued',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_run_at REAL NOT NULL,
    started_at  REAL,
    finished_at REAL,
    last_error  TEXT
);
"""
# The last inbox seq taken in as a job.
_IMPORTED_TABLE = """
CREATE TABLE IF NOT EXISTS imported (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
"""
_JOBS_SCHEMA = (
    _JOBS_TABLE.format(name="jobs")
    + """
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, next_run_at, seq);
"""
    + _IMPORTED_TABLE
    + """
INSERT OR IGNORE INTO imported VALUES (1, 0);
"""
)
_DELIVERY_COLUMNS = "seq, delivery_id, event, action, installation_id, payload"


def inbox_path(database: Path) -> Path:
    """Where the inbox of a queue lives: beside it, `queue.sqlite3` -> `queue.inbox.sqlite3`."""
    return database.with_name(f"{database.stem}.inbox{database.suffix}")


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


def _job(delivery: tuple[object, ...], state: tuple[object, ...]) -> Job:
    """A Job from its inbox row (_DELIVERY_COLUMNS) and its state (state, attempts, last_error)."""
    seq, delivery_id, event, action, installation_id, payload = delivery
    job_state, attempts, last_error = state
    return Job(
        seq,  # type: ignore[arg-type]
        delivery_id,  # type: ignore[arg-type]
        event,  # type: ignore[arg-type]
        action,  # type: ignore[arg-type]
        installation_id,  # type: ignore[arg-type]
        payload,  # type: ignore[arg-type]
        job_state,  # type: ignore[arg-type]
        attempts,  # type: ignore[arg-type]
        last_error,  # type: ignore[arg-type]
    )


class JobStore:
    """All SQL lives here; callers see jobs, never rows."""

    def __init__(self, path: Path | str, intake_sync: str = "full") -> None:
        self.path = Path(path)
        self.inbox_path = inbox_path(self.path)
        if intake_sync not in ("full", "normal"):
            raise ValueError(f"unknown synchronous mode {intake_sync!r}")
        self._intake_sync = intake_sync.upper()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write = threading.Lock()
        self._imported_since_checkpoint = 0

    def open(self) -> None:
        """Create the files and tables if needed, and upgrade a queue of an earlier release."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA inbox.journal_mode=WAL")
        conn.executescript(_INBOX_SCHEMA)
        with self._write:
            _upgrade(conn)
        conn.executescript(_JOBS_SCHEMA)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _conn(self, intake: bool = False) -> sqlite3.Connection:
        """This thread's connection: the jobs file with the inbox attached, or the inbox alone."""
        name = "intake" if intake else "conn"
        conn = getattr(self._local, name, None)
        if conn is None:
            # isolation_level=None: we open transactions ourselves, explicitly.
            path = self.inbox_path if intake else self.path
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA busy_timeout=30000")
            if intake:
                conn.execute(f"PRAGMA synchronous={self._intake_sync}")
                # Copying the log into the file (a checkpoint) is the workers'
                # job (`_import`): here it would add writes the 202 waits for.
                conn.execute("PRAGMA wal_autocheckpoint=0")
            else:
                conn.execute("ATTACH DATABASE ? AS inbox", (str(self.inbox_path),))
                conn.execute("PRAGMA main.synchronous=NORMAL")
                conn.execute("PRAGMA inbox.synchronous=NORMAL")
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
        conn = self._conn(intake=True)
        with self._write:
            return self._insert(conn, batch, time.time())

    @staticmethod
    def _insert(conn: sqlite3.Connection, batch: list[NewJob], now: float) -> list[bool]:
        # One statement, so one implicit transaction, whatever the batch's size.
        # A delivery id already stored conflicts and is not returned: that is a
        # redelivery.
        rows: list[object] = []
        for job in batch:
            rows += (job.delivery_id, job.event, job.action, job.installation_id, now, job.payload)
        # Only placeholders are joined into the SQL; every value is a parameter.
        values = ",".join(["(?, ?, ?, ?, ?, ?)"] * len(batch))
        sql = (
            "INSERT INTO deliveries (delivery_id, event, action, installation_id,"  # noqa: S608
            f" received_at, payload) VALUES {values}"
            " ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id"
        )
        stored = {row[0] for row in conn.execute(sql, rows).fetchall()}
        results: list[bool] = []
        for job in batch:
            # A second copy within the batch is a redelivery of the first.
            results.append(job.delivery_id in stored)
            stored.discard(job.delivery_id)
        return results

    # -- workers --------------------------------------------------------------

    def claim(self, now: float | None = None) -> Job | None:
        """Take the oldest due job and mark it running (one attempt more)."""
        jobs = self.claim_many(1, now)
        return jobs[0] if jobs else None

    def claim_many(self, limit: int, now: float | None = None) -> list[Job]:
        """Take up to `limit` of the oldest due jobs, oldest first, and mark them running.

        New deliveries in the inbox become jobs first. Looking costs reads;
        only when something is new or due does it write.
        """
        now = time.time() if now is None else now
        conn = self._conn()
        self._import(conn)
        due = [
            seq
            for (seq,) in conn.execute(
                "SELECT seq FROM jobs WHERE state = 'queued' AND next_run_at <= ?"
                " ORDER BY next_run_at, seq LIMIT ?",
                (now, limit),
            )
        ]
        if not due:
            return []
        marks = ",".join("?" * len(due))
        # state = 'queued' again: another process may have taken one meanwhile.
        states = self._modify(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?"  # noqa: S608
            f" WHERE seq IN ({marks}) AND state = 'queued'"
            " RETURNING seq, state, attempts, last_error",
            (now, *due),
        )
        if not states:
            return []
        # Read outside the write lock: a delivery never changes once stored.
        by_seq = self._deliveries(conn, [row[0] for row in states])
        lost = [
            Outcome(row[0], DEAD, "its delivery is missing from the inbox")
            for row in states
            if row[0] not in by_seq
        ]  # type: ignore[arg-type]
        if lost:
            # Only a damaged inbox does this; buried, so it is seen and not claimed forever.
            self.finish_many(lost)
        order = {seq: n for n, seq in enumerate(due)}
        states.sort(key=lambda row: order[row[0]])  # type: ignore[index]
        return [_job(by_seq[row[0]], row[1:]) for row in states if row[0] in by_seq]

    @staticmethod
    def _deliveries(conn: sqlite3.Connection, seqs: list[int]) -> dict[object, tuple[object, ...]]:
        marks = ",".join("?" * len(seqs))
        rows = conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM inbox.deliveries WHERE seq IN ({marks})",  # noqa: S608
            seqs,
        ).fetchall()
        return {row[0]: row for row in rows}

    def _import(self, conn: sqlite3.Connection) -> int:
        """Take the deliveries the inbox got since the last call in as queued jobs."""
        (mark,) = conn.execute("SELECT seq FROM imported").fetchone()
        (last,) = conn.execute("SELECT MAX(seq) FROM inbox.deliveries").fetchone()
        if last is None or last <= mark:
            return 0
        with self._write:
            # BEGIN, not BEGIN IMMEDIATE: IMMEDIATE would take the write lock of
            # every attached file, the inbox's included. Only this process writes
            # the jobs file, under self._write, so the deferred upgrade cannot
            # find it changed since the read.
            conn.execute("BEGIN")
            try:
                (mark,) = conn.execute("SELECT seq FROM imported").fetchone()
                taken = conn.execute(
                    "INSERT INTO jobs (seq, next_run_at)"
                    " SELECT seq, received_at FROM inbox.deliveries WHERE seq > ? ORDER BY seq"
                    " ON CONFLICT (seq) DO NOTHING",
                    (mark,),
                ).rowcount
                conn.execute(
                    "UPDATE imported SET seq = (SELECT MAX(seq) FROM inbox.deliveries)"
                    " WHERE id = 1 AND (SELECT MAX(seq) FROM inbox.deliveries) > seq"
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._imported_since_checkpoint += taken
            if self._imported_since_checkpoint >= _CHECKPOINT_EVERY:
                self._imported_since_checkpoint = 0
                # PASSIVE: copies what it can without waiting for (or blocking) the intake.
                conn.execute("PRAGMA inbox.wal_checkpoint(PASSIVE)").fetchall()
        return taken

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
            conn.execute("BEGIN")  # deferred: see _import
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
        now = time.time()
        conn = self._conn()
        with self._write:
            conn.execute("BEGIN")  # deferred: see _import
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
        conn = self._conn()
        if self._unimported(conn):
            return time.time()
        row = conn.execute("SELECT MIN(next_run_at) FROM jobs WHERE state = 'queued'").fetchone()
        return row[0] if row else None

    @staticmethod
    def _unimported(conn: sqlite3.Connection) -> int:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM inbox.deliveries WHERE seq > (SELECT seq FROM imported)"
        ).fetchone()
        return int(count)

    def prune(self, older_than_seconds: float) -> int:
        """Forget finished jobs older than the redelivery window, their deliveries too.

        The two files commit apart: a crash between them leaves deliveries
        without a job, which the next prune removes.
        """
        cutoff = time.time() - older_than_seconds
        conn = self._conn()
        with self._write:
            pruned = conn.execute(
                "DELETE FROM jobs WHERE state = 'done' AND finished_at < ?", (cutoff,)
            ).rowcount
            # The one write to the inbox besides the intake's: rare, and short.
            conn.execute(
                "DELETE FROM inbox.deliveries WHERE seq <= (SELECT seq FROM imported)"
                " AND seq NOT IN (SELECT seq FROM jobs)"
            )
        return pruned

    # -- inspection -----------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Jobs by state; deliveries not yet taken in from the inbox count as queued."""
        conn = self._conn()
        found = dict(conn.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        found[QUEUED] = found.get(QUEUED, 0) + self._unimported(conn)
        return {state: int(found.get(state, 0)) for state in STATES}

    def get(self, delivery_id: str) -> Job | None:
        conn = self._conn()
        delivery = conn.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM inbox.deliveries WHERE delivery_id = ?",  # noqa: S608
            (delivery_id,),
        ).fetchone()
        if delivery is None:
            return None
        state = conn.execute(
            "SELECT state, attempts, last_error FROM jobs WHERE seq = ?", (delivery[0],)
        ).fetchone()
        return _job(delivery, state or (QUEUED, 0, None))

    def ping(self) -> bool:
        """True when both files answer a query."""
        try:
            conn = self._conn()
            conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
            conn.execute("SELECT 1 FROM inbox.deliveries LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True


# Deliveries taken in between two checkpoints of the inbox's log.
_CHECKPOINT_EVERY = 256


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")}


def _upgrade(conn: sqlite3.Connection) -> None:
    """Move a queue of an earlier release, deliveries and states in one file, into two.

    Earlier layouts: `jobs` held the delivery (id, event, action, installation,
    received_at) beside its state, and its payload either in a column or in a
    table `payloads`. The deliveries are copied into the inbox first (INSERT OR
    IGNORE: a crash before the jobs file is rewritten just repeats it on the
    next start), then `jobs` is rebuilt with the state columns only.
    """
    if "delivery_id" not in _columns(conn, "jobs"):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        columns = _columns(conn, "jobs")  # again: another process may have done it meanwhile
        if "delivery_id" in columns:
            if "payload" in columns:
                source, payload = "jobs j", "j.payload"
            else:
                source, payload = (
                    "jobs j LEFT JOIN payloads p USING (seq)",
                    "COALESCE(p.payload, x'')",
                )
            conn.execute(
                "INSERT OR IGNORE INTO inbox.deliveries"  # noqa: S608 (fixed SQL, no values)
                " (seq, delivery_id, event, action, installation_id, received_at, payload)"
                " SELECT j.seq, j.delivery_id, j.event, j.action, j.installation_id,"
                f" j.received_at, {payload} FROM {source}"
            )
            conn.execute(_JOBS_TABLE.format(name="main.jobs_states"))
            conn.execute(
                "INSERT INTO jobs_states SELECT seq, state, attempts, next_run_at,"
                " started_at, finished_at, last_error FROM jobs"
            )
            conn.execute("DROP TABLE jobs")
            conn.execute("DROP TABLE IF EXISTS main.payloads")
            conn.execute("ALTER TABLE jobs_states RENAME TO jobs")
            conn.execute(_IMPORTED_TABLE)
            conn.execute("INSERT OR REPLACE INTO imported SELECT 1, IFNULL(MAX(seq), 0) FROM jobs")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
