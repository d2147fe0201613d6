"""The SQLite queue on its own: states, redeliveries, recovery after a crash, retention."""

from __future__ import annotations

import time

from bot.server.queue import JobStore, NewJob


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
