"""The SQLite store's tables, and the versioned steps from every earlier layout.

The jobs file's `PRAGMA user_version` says which steps it has had:
- 0: a layout of an earlier release. The first had deliveries and states in
  one file (`jobs` holding the delivery beside its state, the payload in a
  column or in a table `payloads`); those deliveries move to the inbox.
- 1: two files, states only in `jobs`.
- 2: jobs carry their owner and lease (`owner`, `lease_until`).
- 3: `redeliveries`, the deliveries this store asked GitHub to send again.
Each step runs under the file's write lock (BEGIN IMMEDIATE) and checks again
what it finds, so processes opening the store at once upgrade it once.
"""

from __future__ import annotations

import sqlite3

VERSION = 3

# AUTOINCREMENT: a pruned seq is never handed out again, so a job row can
# never meet another delivery's payload.
INBOX_SCHEMA = """
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


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the jobs file (inbox attached) to VERSION."""
    conn.executescript(INBOX_SCHEMA)
    if _version(conn) >= VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _version(conn)  # again, under the lock
        if version < 1:
            _split_into_two_files(conn)
            _create(conn)
        if version < 2:
            columns = _columns(conn, "jobs")
            if "owner" not in columns:
                conn.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")
            if "lease_until" not in columns:
                conn.execute("ALTER TABLE jobs ADD COLUMN lease_until REAL")
        if version < 3:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS redeliveries"
                " (guid TEXT PRIMARY KEY, requested_at REAL NOT NULL)"
            )
        conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA main.user_version").fetchone()[0])


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")}


def _split_into_two_files(conn: sqlite3.Connection) -> None:
    """Copy the deliveries of a one-file layout into the inbox; keep the states in `jobs`."""
    columns = _columns(conn, "jobs")
    if "delivery_id" not in columns:
        return
    if "payload" in columns:
        source, payload = "jobs j", "j.payload"
    else:
        source, payload = "jobs j LEFT JOIN payloads p USING (seq)", "COALESCE(p.payload, x'')"
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


def _create(conn: sqlite3.Connection) -> None:
    # executescript would COMMIT the open transaction: one statement at a time.
    for statement in _JOBS_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
