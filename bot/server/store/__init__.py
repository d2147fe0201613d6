"""The server's durable store of deliveries and jobs: one interface, two backends.

`open_store` picks the backend `MLBOT_DATABASE` names (`location.parse`):
SQLite (`sqlite.py`, the embedded default, one replica) or PostgreSQL
(`postgres.py`, shared by several replicas; psycopg is imported only then).
The interface and the job types are in `jobs.py`.
"""

from __future__ import annotations

from pathlib import Path

from bot.errors import InputError
from bot.server.store.jobs import DEFAULT_LEASE_SECONDS, JobStore
from bot.server.store.location import Location, PostgresLocation, SqliteLocation, parse
from bot.server.store.sqlite import SqliteStore


def make_store(
    location: Location | str | Path,
    *,
    intake_sync: str = "full",
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    connections: int = 8,
) -> JobStore:
    """The store at `location`, not yet opened (call `open()`)."""
    if isinstance(location, str | Path):
        location = parse(location)
    if isinstance(location, SqliteLocation):
        return SqliteStore(location.path, intake_sync, lease_seconds)
    assert isinstance(location, PostgresLocation)
    try:
        from bot.server.store.postgres import PostgresStore
    except ImportError:
        raise InputError(
            "MLBOT_DATABASE is a PostgreSQL URL, but psycopg is not installed:"
            " pip install 'mlbot[postgres]'."
        ) from None
    return PostgresStore(
        location.url,
        location.shown(),
        intake_sync,
        lease_seconds,
        max_connections=connections,
    )
