"""What only the SQLite store does: two files, upgrades in place, restart recovery.

The behaviour both backends share is in test_store_backends.py.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest

from bot.server.store.jobs import DONE, NewJob
from bot.server.store.sqlite import SqliteStore as JobStore


def job(delivery_id: str) -> NewJob:
    return NewJob(delivery_id, "issue_comment", "created", 7, b'{"x": 1}')


def test_a_restart_takes_back_interrupted_jobs_at_once_without_waiting_for_leases(tmp_path):
    # One replica: whoever held a running job before this store opened is gone.
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.insert_many([job("a"), job("b")])
    a = store.claim()
    store.retry_later(a.seq, 0, "502")
    store.claim()  # a, second attempt: interrupted
    store.claim()  # b, first attempt: interrupted
    store.close()

    reopened = JobStore(tmp_path / "q.db")
    reopened.open()
    assert reopened.recover(max_attempts=2) == (1, 1)
    assert reopened.get("a").state == "dead"
    assert reopened.get("b").state == "queued"


def test_pruning_a_job_removes_its_delivery_from_the_inbox_file(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.insert_many([job("a"), job("b")])
    store.complete(store.claim().seq)
    store.bury(store.claim().seq, "x")
    assert store.prune(older_than_seconds=-1) == 1
    with sqlite3.connect(tmp_path / "q.inbox.db") as conn:  # the pruned job's delivery went too
        assert conn.execute("SELECT delivery_id FROM deliveries").fetchall() == [("b",)]


# The queue as the first release wrote it: payloads in a column of `jobs`.
ONE_TABLE = """
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL, action TEXT, installation_id INTEGER, payload BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
    received_at REAL NOT NULL, next_run_at REAL NOT NULL, started_at REAL,
    finished_at REAL, last_error TEXT
);
CREATE INDEX jobs_ready ON jobs (state, next_run_at, seq);
INSERT INTO jobs (delivery_id, event, action, installation_id, payload, state,
                  received_at, next_run_at)
VALUES ('old-done', 'ping', NULL, NULL, CAST('{"zen": "z"}' AS BLOB), 'done', 1, 1),
       ('old-queued', 'issue_comment', 'created', 7, CAST('{"x": 2}' AS BLOB), 'queued', 2, 2);
"""


# The queue as 0.1 wrote it: one file, payloads in a table of their own.
ONE_FILE = """
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL, action TEXT, installation_id INTEGER,
    state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
    received_at REAL NOT NULL, next_run_at REAL NOT NULL, started_at REAL,
    finished_at REAL, last_error TEXT
);
CREATE INDEX jobs_ready ON jobs (state, next_run_at, seq);
CREATE TABLE payloads (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL);
INSERT INTO jobs (delivery_id, event, action, installation_id, state,
                  received_at, next_run_at)
VALUES ('old-done', 'ping', NULL, NULL, 'done', 1, 1),
       ('old-queued', 'issue_comment', 'created', 7, 'queued', 2, 2);
INSERT INTO payloads VALUES (1, CAST('{"zen": "z"}' AS BLOB)), (2, CAST('{"x": 2}' AS BLOB));
"""


@pytest.mark.parametrize("layout", [ONE_TABLE, ONE_FILE], ids=["one table", "one file"])
def test_a_queue_of_an_earlier_release_is_upgraded_without_losing_a_job(tmp_path, layout):
    with sqlite3.connect(tmp_path / "q.db") as conn:
        conn.executescript(layout)
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.open()  # a second process opening it finds it upgraded already
    claimed = store.claim()
    assert (claimed.delivery_id, claimed.payload) == ("old-queued", b'{"x": 2}')
    assert store.get("old-done").payload == b'{"zen": "z"}'
    assert store.insert_many([job("old-done"), job("new")]) == [False, True]
    assert store.get("new").payload == b'{"x": 1}'


def test_deliveries_not_yet_taken_in_by_the_workers_count_as_queued(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.insert_many([job("a"), job("b")])
    assert store.counts()["queued"] == 2
    assert (store.get("a").state, store.get("a").attempts) == ("queued", 0)
    assert store.next_due() is not None
    assert store.claim().delivery_id == "a"
    assert store.counts() == {"queued": 1, "running": 1, "done": 0, "dead": 0}


def test_storing_a_delivery_never_waits_for_a_worker_holding_the_jobs_file(tmp_path):
    # The workers run at a low priority: if the intake shared their write lock,
    # a worker preempted mid-commit would hold every acknowledgement up.
    store = JobStore(tmp_path / "q.db")
    store.open()
    worker = sqlite3.connect(tmp_path / "q.db", isolation_level=None)
    worker.execute("BEGIN IMMEDIATE")
    worker.execute("UPDATE jobs SET attempts = attempts")
    results: list[list[bool]] = []
    intake = threading.Thread(target=lambda: results.append(store.insert_many([job("a")])))
    intake.start()
    intake.join(timeout=10)  # the busy timeout is 30 s: it would still be waiting
    worker.execute("ROLLBACK")
    assert results == [[True]]
    assert store.claim().delivery_id == "a"


def test_a_job_whose_delivery_is_gone_from_a_damaged_inbox_is_buried_not_claimed(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.insert_many([job("a"), job("b")])
    assert store.claim_many(0) == []  # taken in as jobs, none claimed
    with sqlite3.connect(tmp_path / "q.inbox.db") as conn:
        conn.execute("DELETE FROM deliveries WHERE delivery_id = 'a'")
    assert [j.delivery_id for j in store.claim_many(5)] == ["b"]
    assert store.counts() == {"queued": 0, "running": 1, "done": 0, "dead": 1}


def test_a_store_of_the_last_release_gets_owners_and_leases_and_keeps_its_running_job(tmp_path):
    # Two files, no owner or lease columns, schema version 0, a job left running.
    with sqlite3.connect(tmp_path / "q.inbox.db") as inbox:
        inbox.execute(
            "CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " delivery_id TEXT NOT NULL UNIQUE, event TEXT NOT NULL, action TEXT,"
            " installation_id INTEGER, received_at REAL NOT NULL, payload BLOB NOT NULL)"
        )
        inbox.execute(
            "INSERT INTO deliveries VALUES (1, 'was-running', 'ping', NULL, NULL, 1, x'7b7d')"
        )
    with sqlite3.connect(tmp_path / "q.db") as jobs:
        jobs.executescript(
            "CREATE TABLE jobs (seq INTEGER PRIMARY KEY, state TEXT NOT NULL DEFAULT 'queued',"
            " attempts INTEGER NOT NULL DEFAULT 0, next_run_at REAL NOT NULL, started_at REAL,"
            " finished_at REAL, last_error TEXT);"
            "CREATE TABLE imported (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);"
            "INSERT INTO imported VALUES (1, 1);"
            "INSERT INTO jobs VALUES (1, 'running', 1, 1, 1, NULL, NULL);"
        )
    store = JobStore(tmp_path / "q.db")
    store.open()
    assert store.recover(max_attempts=3) == (1, 0)
    claimed = store.claim()
    assert (claimed.delivery_id, claimed.attempts) == ("was-running", 2)
    store.complete(claimed.seq)
    assert store.get("was-running").state == DONE
