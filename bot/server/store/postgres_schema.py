"""The PostgreSQL store's tables, as numbered migrations applied in order.

`mlbot_schema` records each migration applied. A replica that starts takes
a session advisory lock first, so when several start at once one migrates
and the others wait, then find nothing left to do. A database migrated by a
newer release than this one is refused rather than written with old rules.
Tables are prefixed `mlbot_` so the store can share a database.
"""

from __future__ import annotations

from typing import Any

# Never edit a migration that has shipped: add one.
MIGRATIONS: tuple[str, ...] = (
    # 1: deliveries (unique delivery id) and their jobs (state, owner, lease).
    """
    CREATE TABLE mlbot_deliveries (
        seq             bigserial PRIMARY KEY,
        delivery_id     text NOT NULL UNIQUE,
        event           text NOT NULL,
        action          text,
        installation_id bigint,
        received_at     double precision NOT NULL,
        payload         bytea NOT NULL
    );
    CREATE TABLE mlbot_jobs (
        seq         bigint PRIMARY KEY REFERENCES mlbot_deliveries (seq) ON DELETE CASCADE,
        state       text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'dead')),
        attempts    integer NOT NULL DEFAULT 0,
        next_run_at double precision NOT NULL,
        started_at  double precision,
        finished_at double precision,
        last_error  text,
        owner       text,
        lease_until double precision
    );
    CREATE INDEX mlbot_jobs_due ON mlbot_jobs (next_run_at, seq) WHERE state = 'queued';
    CREATE INDEX mlbot_jobs_leased ON mlbot_jobs (lease_until) WHERE state = 'running';
    CREATE INDEX mlbot_jobs_finished ON mlbot_jobs (finished_at) WHERE state = 'done';
    """,
    # 2: storing jobs notifies the workers (LISTEN mlbot_jobs) in the same
    # statement, so an insert is one round trip.
    """
    CREATE FUNCTION mlbot_jobs_stored() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        stored bigint;
    BEGIN
        SELECT count(*) INTO stored FROM inserted;
        IF stored > 0 THEN
            PERFORM pg_notify('mlbot_jobs', stored::text);
        END IF;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER mlbot_jobs_stored AFTER INSERT ON mlbot_jobs
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION mlbot_jobs_stored();
    """,
    # 3: the deliveries some replica asked GitHub to send again.
    """
    CREATE TABLE mlbot_redeliveries (
        guid         text PRIMARY KEY,
        requested_at double precision NOT NULL
    );
    """,
    # 4: payloads compressed with lz4, not the default pglz. A payload past 2 KB (most
    # are: a ping is 7 KB, a comment 10 KB) is compressed as it is stored, on the
    # acknowledgement's path: pglz cost about as much as the rest of the insert; lz4 a
    # fraction. A server without lz4 (built without it, before PostgreSQL 14) stores
    # them uncompressed instead, which is cheaper still to write and only larger.
    """
    DO $$
    BEGIN
        EXECUTE 'ALTER TABLE mlbot_deliveries ALTER COLUMN payload SET COMPRESSION lz4';
    EXCEPTION WHEN OTHERS THEN
        ALTER TABLE mlbot_deliveries ALTER COLUMN payload SET STORAGE EXTERNAL;
    END
    $$;
    """,
)
VERSION = len(MIGRATIONS)
# pg_advisory_lock key of "migrating mlbot's schema" (any fixed 64-bit number).
_MIGRATION_LOCK = 0x6D6C626F74


class SchemaTooNew(RuntimeError):
    pass


def migrate(conn: Any) -> list[int]:
    """Apply the migrations the database lacks; the numbers applied (autocommit connection)."""
    conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS mlbot_schema ("
            " version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        (current,) = conn.execute("SELECT COALESCE(MAX(version), 0) FROM mlbot_schema").fetchone()
        if current > VERSION:
            raise SchemaTooNew(
                f"the database's mlbot schema is version {current}, newer than this release's"
                f" {VERSION}: run the newer mlbot, or a database of its own"
            )
        applied = []
        for version in range(current + 1, VERSION + 1):
            with conn.transaction():
                conn.execute(MIGRATIONS[version - 1])
                conn.execute("INSERT INTO mlbot_schema (version) VALUES (%s)", (version,))
            applied.append(version)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
