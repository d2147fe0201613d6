"""What only the PostgreSQL store does: migrations, live leases, notifications, refusals.

The behaviour both backends share is in test_store_backends.py.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from bot.server.store import make_store
from bot.server.store.jobs import NewJob
from bot.server.store.location import parse
from bot.server.store.postgres import PostgresStore, StoreUnavailable
from bot.server.store.postgres_schema import VERSION, SchemaTooNew


def job(delivery_id: str) -> NewJob:
    return NewJob(delivery_id, "ping", None, None, b"{}")


def test_replicas_starting_at_once_migrate_the_schema_once(postgres_url):
    stores = [make_store(postgres_url) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def open_one(store) -> None:
        start.wait()
        try:
            store.open()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with psycopg.connect(postgres_url) as conn:
        versions = conn.execute("SELECT version FROM mlbot_schema ORDER BY version").fetchall()
    assert versions == [(v,) for v in range(1, VERSION + 1)]
    assert stores[0].insert_many([job("a")]) == [True]
    for store in stores:
        store.close()


def test_a_database_migrated_by_a_newer_release_is_refused(postgres_url):
    store = make_store(postgres_url)
    store.open()
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO mlbot_schema (version) VALUES (%s)", (VERSION + 1,))
    again = make_store(postgres_url)
    with pytest.raises(SchemaTooNew, match="newer than this release"):
        again.open()
    again.close()


def test_a_live_replica_keeps_its_jobs_by_renewing_their_lease(postgres_url):
    owner, other = make_store(postgres_url, lease_seconds=2), make_store(postgres_url)
    owner.open()
    other.open()
    owner.insert_many([job("a")])
    claimed = owner.claim()
    time.sleep(1.2)
    assert owner.renew() == 1
    time.sleep(1.2)  # past the first lease, within the renewed one
    assert other.recover(max_attempts=5) == (0, 0)
    time.sleep(2.2)  # the owner stopped renewing
    assert other.recover(max_attempts=5) == (1, 0)
    assert other.claim().seq == claimed.seq
    owner.close()
    other.close()


def test_storing_a_job_wakes_the_workers_of_every_replica(postgres_url):
    intake, workers = make_store(postgres_url), make_store(postgres_url)
    intake.open()
    workers.open()
    woken: list[int] = []
    event = threading.Event()

    def wake(count: int) -> None:
        woken.append(count)
        event.set()

    stop = workers.listen(wake)
    try:
        assert event.wait(10)  # the first wake-up: look for what came while not listening
        event.clear()
        woken.clear()
        intake.insert_many([job("a"), job("b")])
        assert event.wait(10)
        assert woken == [2]
        event.clear()
        intake.insert_many([job("a")])  # a redelivery stores nothing: no wake-up
        assert not event.wait(0.5)
    finally:
        stop()
        intake.close()
        workers.close()


def test_an_unreachable_database_is_a_clear_error_without_the_password(postgres_server):
    url = f"postgresql://mlbot:s3cret-pw@127.0.0.1:{postgres_server.port + 1}/nowhere"
    store = PostgresStore(url, parse(url).shown(), connect_seconds=1)
    with pytest.raises(StoreUnavailable) as caught:
        store.open()
    assert "127.0.0.1" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_deliveries_are_stored_after_the_database_dropped_the_intake_connection(postgres_url):
    """The intake keeps one connection of its own: one the server closed while idle (a
    restart, a proxy's idle timeout) is replaced, and the batch is stored, not refused."""
    store = make_store(postgres_url)
    store.open()
    try:
        assert store.insert_many([job("before")]) == [True]
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND query LIKE '%%INSERT INTO mlbot_deliveries%%'"
            ).fetchall()
        assert ended == [(True,)]
        assert store.insert_many([job("after"), job("before")]) == [True, False]
        assert store.get("after") is not None
    finally:
        store.close()
