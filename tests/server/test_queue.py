"""The SQLite queue on its own: states, redeliveries, recovery after a crash, retention."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from bot.server.store.jobs import DEAD, DONE, QUEUED, NewJob, Outcome
from bot.server.store.sqlite import SqliteStore as JobStore


def job(delivery_id: str) -> NewJob:
    return NewJob(delivery_id, "issue_comment", "created", 7, b'{"x": 1}')


def test_a_delivery_id_is_stored_once_even_twice_in_one_batch(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    assert store.insert_many([job("a"), job("b"), job("a")]) == [True, True, False]
    assert store.insert_many([job("b"), job("c")]) == [False, True]
    assert store.counts()["queued"] == 3


def test_jobs_are_claimed_oldest_first_and_finish_once(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.insert_many([job("a")])
    store.insert_many([job("b")])
    first, second = store.claim(), store.claim()
    assert (first.delivery_id, second.delivery_id) == ("a", "b")
    assert (first.state, first.attempts) == ("running", 1)
    assert store.claim() is None
    store.complete(first.seq)
    store.bury(second.seq, "broken")
    assert store.counts() == {"queued": 0, "running": 0, "done": 1, "dead": 1}
    assert store.get("b").last_error == "broken"


def test_a_job_retried_later_is_not_claimed_before_its_time(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.insert_many([job("a")])
    claimed = store.claim()
    store.retry_later(claimed.seq, time.time() + 3600, "502")
    assert store.claim() is None
    again = store.claim(now=time.time() + 3601)
    assert (again.delivery_id, again.attempts) == ("a", 2)


def test_recovery_requeues_interrupted_jobs_and_buries_those_out_of_attempts(tmp_path):
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


def test_old_finished_jobs_are_pruned_but_not_dead_ones(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    store.insert_many([job("a"), job("b")])
    store.complete(store.claim().seq)
    store.bury(store.claim().seq, "x")
    assert store.prune(older_than_seconds=3600) == 0
    assert store.prune(older_than_seconds=-1) == 1
    assert store.counts() == {"queued": 0, "running": 0, "done": 0, "dead": 1}
    assert store.get("a") is None
    assert store.get("b").payload == b'{"x": 1}'
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


def test_jobs_are_claimed_in_batches_oldest_first_and_their_ends_recorded_together(tmp_path):
    store = JobStore(tmp_path / "q.db")
    store.open()
    for name in "abc":
        store.insert_many([job(name)])
    first = store.claim_many(2)
    assert [j.delivery_id for j in first] == ["a", "b"]
    assert all(j.state == "running" and j.attempts == 1 and j.payload for j in first)
    (c,) = store.claim_many(5)
    assert store.claim_many(5) == []
    a, b = first
    store.finish_many(
        [
            Outcome(a.seq, DONE),
            Outcome(b.seq, QUEUED, "502", time.time() + 3600),
            Outcome(c.seq, DEAD, "bug"),
        ]
    )
    assert store.counts() == {"queued": 1, "running": 0, "done": 1, "dead": 1}
    assert store.claim_many(5) == []  # b is not due yet
    (again,) = store.claim_many(5, now=time.time() + 3601)
    assert (again.delivery_id, again.attempts, again.last_error) == ("b", 2, "502")
    store.release([again.seq])  # claimed, never started: not an attempt
    assert (store.get("b").state, store.get("b").attempts) == ("queued", 1)


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
