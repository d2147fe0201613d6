"""The embedded store: SQLite, in two files with one writer each, for one replica.

- The inbox (`<name>.inbox<suffix>` beside the jobs file) holds each delivery
  as it arrived, payload included; only the intake writes to it, and only to
  append. The delivery id is unique there, so a redelivery cannot make a
  second job.
- The jobs file holds each job's state, written only by the workers, who
  take the inbox's new deliveries in as queued jobs (`_import`) before they
  claim.

Why two files: SQLite has one write lock per file. With one file, the intake
waited whenever a worker was committing, and the workers run at a low
priority, so a worker preempted while holding the lock held every
acknowledgement up with it. Now the acknowledgement path never waits for a
worker.

Both run in WAL mode. Storing a delivery commits with `synchronous=FULL` (an
fsync), so an acknowledged delivery survives a crash of the process and of
the machine; `MLBOT_QUEUE_SYNC=normal` trades the machine-crash guarantee for
throughput. The state changes commit with `synchronous=NORMAL`: a power loss
can at worst forget the last ones, which only makes a job run again
(execution is at least once anyway). Each thread uses its own connections;
writers in this process take a Python lock first, so they never spin on
SQLite's busy handler.

One replica: `mlbot serve`'s worker process holds the file's worker lock,
so a running job some other owner holds is an orphan of a process that is
gone, and `recover` takes it back at once, lease or not.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bot.server.store import sqlite_schema
from bot.server.store.jobs import (
    DEAD,
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

_DELIVERY_COLUMNS = "seq, delivery_id, event, action, installation_id, payload"
# Deliveries taken in between two checkpoints of the inbox's log.
_CHECKPOINT_EVERY = 256
_LOCKS: dict[tuple[str, ...], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _shared_lock(key: tuple[str, ...]) -> threading.Lock:
    """The one lock of this process for `key`."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def inbox_path(database: Path) -> Path:
    """Where the inbox of a store lives: beside it, `queue.sqlite3` -> `queue.inbox.sqlite3`."""
    return database.with_name(f"{database.stem}.inbox{database.suffix}")


def _job(delivery: tuple[object, ...], state: tuple[object, ...]) -> Job:
    """A Job from its inbox row (_DELIVERY_COLUMNS) and its state (state, attempts, last_error)."""
    return Job(*delivery, *state)  # type: ignore[arg-type]


class SqliteStore(Conveniences):
    """All SQLite lives here; callers see jobs, never rows."""

    def __init__(
        self,
        path: Path | str,
        intake_sync: str = "full",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.path = Path(path).absolute()
        self.inbox_path = inbox_path(self.path)
        if intake_sync not in ("full", "normal"):
            raise ValueError(f"unknown synchronous mode {intake_sync!r}")
        self._intake_sync = intake_sync.upper()
        self.owner = new_owner()
        self._lease = lease_seconds
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Per file, not per instance: every store on this file in this process
        # takes its turn, so none meets SQLite's busy error on a deferred upgrade.
        self._write = _shared_lock(("write", str(self.path)))
        self._imported_since_checkpoint = 0

    def open(self) -> None:
        """Create the files and tables if needed, and upgrade a store of an earlier release."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA inbox.journal_mode=WAL")
        with self._write:
            sqlite_schema.migrate(conn)

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
        batch = list(jobs)
        if not batch:
            return []
        conn = self._conn(intake=True)
        # One statement, so one implicit transaction, whatever the batch's size.
        # A delivery id already stored conflicts and is not returned: that is a
        # redelivery.
        now = time.time()
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
        with self._write:
            stored = {row[0] for row in conn.execute(sql, rows).fetchall()}
        return _firsts(batch, stored)

    # -- workers --------------------------------------------------------------

    def claim_many(self, limit: int, now: float | None = None) -> list[Job]:
        """New deliveries in the inbox become jobs first; only what is due costs a write."""
        now = now_or(now)
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
        with self._write:
            states = conn.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?,"  # noqa: S608
                f" owner = ?, lease_until = ? WHERE seq IN ({marks}) AND state = 'queued'"
                " RETURNING seq, state, attempts, last_error",
                (now, self.owner, now + self._lease, *due),
            ).fetchall()
        if not states:
            return []
        # Read outside the write lock: a delivery never changes once stored.
        by_seq = self._deliveries(conn, [row[0] for row in states])
        lost = [
            JobResult(row[0], DEAD, "its delivery is missing from the inbox")
            for row in states
            if row[0] not in by_seq
        ]
        if lost:
            # Only a damaged inbox does this; buried, so it is seen and not claimed forever.
            self.finish_many(lost)
        order = {seq: n for n, seq in enumerate(due)}
        states.sort(key=lambda row: order[row[0]])
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
        with self._write, self._transaction(conn):
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
        self._imported_since_checkpoint += taken
        if self._imported_since_checkpoint >= _CHECKPOINT_EVERY:
            self._imported_since_checkpoint = 0
            # PASSIVE: copies what it can without waiting for (or blocking) the intake.
            with self._write:
                conn.execute("PRAGMA inbox.wal_checkpoint(PASSIVE)").fetchall()
        return taken

    @staticmethod
    @contextlib.contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
        # BEGIN, not BEGIN IMMEDIATE: IMMEDIATE would take the write lock of
        # every attached file, the inbox's included. Only this process writes
        # the jobs file, under self._write, so the deferred upgrade cannot
        # find it changed since the read.
        conn.execute("BEGIN")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def release(self, seqs: Iterable[int]) -> None:
        self._many(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, owner = NULL"
            " WHERE seq = ? AND state = 'running' AND owner = ?",
            [(seq, self.owner) for seq in seqs],
        )

    def finish_many(self, outcomes: Iterable[JobResult]) -> None:
        now = time.time()
        rows: list[tuple[object, ...]] = []
        for o in outcomes:
            if o.state == QUEUED:
                rows.append((QUEUED, None, o.error, o.run_at, o.seq, self.owner))
            else:
                rows.append((o.state, now, o.error, None, o.seq, self.owner))
        self._many(
            "UPDATE jobs SET state = ?, finished_at = ?, last_error = ?, owner = NULL,"
            " next_run_at = COALESCE(?, next_run_at)"
            " WHERE seq = ? AND state = 'running' AND owner = ?",
            rows,
        )

    def _many(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        if not rows:
            return
        conn = self._conn()
        with self._write, self._transaction(conn):
            conn.executemany(sql, rows)

    def renew(self, now: float | None = None) -> int:
        now = now_or(now)
        conn = self._conn()
        with self._write:
            return conn.execute(
                "UPDATE jobs SET lease_until = ? WHERE state = 'running' AND owner = ?",
                (now + self._lease, self.owner),
            ).rowcount

    def recover(self, max_attempts: int, now: float | None = None) -> tuple[int, int]:
        now = now_or(now)
        conn = self._conn()
        orphan = "state = 'running' AND (owner IS NULL OR owner != ? OR lease_until < ?)"
        with self._write, self._transaction(conn):
            buried = conn.execute(
                "UPDATE jobs SET state = 'dead', finished_at = ?, owner = NULL,"  # noqa: S608
                " last_error = 'interrupted by a restart on its last attempt'"
                f" WHERE {orphan} AND attempts >= ?",
                (now, self.owner, now, max_attempts),
            ).rowcount
            requeued = conn.execute(
                "UPDATE jobs SET state = 'queued', next_run_at = ?, owner = NULL,"  # noqa: S608
                f" last_error = 'interrupted by a restart' WHERE {orphan}",
                (now, self.owner, now),
            ).rowcount
        return requeued, buried

    def next_due(self) -> float | None:
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
        """The two files commit apart: a crash between them leaves deliveries
        without a job, which the next prune removes."""
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

    @contextlib.contextmanager
    def model_lock(self, repo: str, model: str) -> Iterator[None]:
        # One replica, and its jobs run in one process: a lock of this process
        # suffices, shared by every store instance on the same file.
        with _shared_lock(("model", str(self.path), repo, model)):
            yield

    def listen(self, wake: Callable[[int], None]) -> Callable[[], None]:
        # One replica: its intake wakes its workers directly.
        return lambda: None

    def claim_redelivery(
        self, guid: str, now: float | None = None, again_after: float = 600.0
    ) -> bool:
        now = now_or(now)
        conn = self._conn()
        with self._write:
            return bool(
                conn.execute(
                    "INSERT INTO redeliveries VALUES (?, ?) ON CONFLICT (guid) DO UPDATE"
                    " SET requested_at = excluded.requested_at"
                    " WHERE redeliveries.requested_at < ? RETURNING guid",
                    (guid, now, now - again_after),
                ).fetchall()
            )

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
        try:
            conn = self._conn()
            conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()
            conn.execute("SELECT 1 FROM inbox.deliveries LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True


def _firsts(batch: list[NewJob], stored: set[str]) -> list[bool]:
    """True for each job whose delivery was stored by this batch; a second copy is a redelivery."""
    results: list[bool] = []
    for job in batch:
        results.append(job.delivery_id in stored)
        stored.discard(job.delivery_id)
    return results
