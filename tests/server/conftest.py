"""Fixtures for the server's tests: a real PostgreSQL, started once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.server import postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    if postgres.binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(postgres.missing_reason() + " (CI must run the PostgreSQL tests)")
        pytest.skip(postgres.missing_reason())
    with postgres.running() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: postgres.PostgresServer) -> str:
    """The URL of a fresh database of its own on the session's server."""
    return postgres_server.create_database()
