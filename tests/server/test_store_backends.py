"""One behavioural suite, two backends: the SQLite store and a real PostgreSQL.

Each test runs against both (PostgreSQL started by the suite itself; see
`tests/server/postgres.py`). A "replica" here is a second store instance on
the same database: its own owner, its own connections, as a second
`mlbot serve` would have.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from bot.server.store import make_store
from bot.server.store.jobs import DEAD, DONE, QUEUED, JobResult, JobStore, NewJob

Open = Callable[..., JobStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def replica(request, tmp_path) -> Open:
    """Opens store instances on one fresh database of the backend under test."""
    if request.param == "sqlite":
        location = str(tmp_path / "q.sqlite3")
    else:
        location = request.getfixturevalue("postgres_url")
    opened: list[JobStore] = []

    def open_one(lease_seconds: float = 30.0) -> JobStore:
        store = make_store(location, lease_seconds=lease_seconds)
        store.open()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


def job(delivery_id: str, payload: bytes = b'{"x": 1}') -> NewJob:
    return NewJob(delivery_id, "issue_comment", "created", 7, payload)


def test_a_delivery_is_stored_once_even_twice_in_one_batch(replica):
    store = replica()
    assert store.insert_many([job("a"), job("b"), job("a")]) == [True, True, False]
    assert store.insert_many([job("b"), job("c")]) == [False, True]
    assert store.counts() == {"queued": 3, "running": 0, "done": 0, "dead": 0}
    assert store.get("a").payload == b'{"x": 1}'
    assert store.get("nobody") is None


def test_a_redelivery_to_another_replica_is_recognised_even_at_the_same_moment(replica):
    stores = [replica(), replica(), replica()]
    results: list[list[bool]] = [[] for _ in stores]
    ids = [f"d-{n}" for n in range(60)]
    start = threading.Barrier(len(stores))

    def deliver(n: int) -> None:
        start.wait()
        for i in range(0, len(ids), 6):
            results[n] += stores[n].insert_many([job(d) for d in ids[i : i + 6]])

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # Every id was new to exactly one replica; the others saw a redelivery.
    for position in range(len(ids)):
        assert sum(r[position] for r in results) == 1
    assert stores[0].counts()["queued"] == len(ids)


def test_jobs_are_claimed_oldest_first_in_batches_and_their_ends_recorded(replica):
    store = replica()
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
            JobResult(a.seq, DONE),
            JobResult(b.seq, QUEUED, "502", time.time() + 3600),
            JobResult(c.seq, DEAD, "bug"),
        ]
    )
    assert store.counts() == {"queued": 1, "running": 0, "done": 1, "dead": 1}
    assert store.get("c").last_error == "bug"
    assert store.claim_many(5) == []  # b is not due yet
    assert store.next_due() > time.time() + 3000
    (again,) = store.claim_many(5, now=time.time() + 3601)
    assert (again.delivery_id, again.attempts, again.last_error) == ("b", 2, "502")
    store.release([again.seq])  # claimed, never started: not an attempt
    assert (store.get("b").state, store.get("b").attempts) == ("queued", 1)


def test_replicas_claiming_at_once_never_take_the_same_job(replica):
    stores = [replica(), replica(), replica()]
    stores[0].insert_many([job(f"j-{n}") for n in range(90)])
    claimed: list[list[str]] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def work(n: int) -> None:
        start.wait()
        while batch := stores[n].claim_many(4):
            claimed[n] += [j.delivery_id for j in batch]
            stores[n].finish_many([JobResult(j.seq, DONE) for j in batch])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [d for c in claimed for d in c]
    assert sorted(everything) == sorted(f"j-{n}" for n in range(90))  # each once
    assert stores[0].counts() == {"queued": 0, "running": 0, "done": 90, "dead": 0}


def test_a_dead_replicas_jobs_are_taken_over_once_its_lease_runs_out(replica):
    dead, alive = replica(lease_seconds=5), replica(lease_seconds=5)
    dead.insert_many([job("a"), job("b")])
    a = dead.claim()
    dead.retry_later(a.seq, 0, "502")
    dead.claim_many(2)  # a on its second attempt, b on its first; then the replica dies
    later = time.time() + 60
    assert alive.recover(max_attempts=2, now=later) == (1, 1)
    assert alive.get("a").state == "dead"  # out of attempts: buried, not run a third time
    b = alive.claim(now=later)
    assert (b.delivery_id, b.attempts) == ("b", 2)
    # The old owner coming back late changes nothing: the job is the new owner's.
    dead.finish_many([JobResult(b.seq, DEAD, "stale")])
    assert alive.get("b").state == "running"
    alive.complete(b.seq)
    assert alive.get("b").state == "done"
    assert alive.recover(max_attempts=2, now=later + 60) == (0, 0)


def test_old_finished_jobs_are_pruned_with_their_deliveries_but_not_dead_ones(replica):
    store = replica()
    store.insert_many([job("a"), job("b")])
    store.complete(store.claim().seq)
    store.bury(store.claim().seq, "x")
    assert store.prune(older_than_seconds=3600) == 0
    assert store.prune(older_than_seconds=-1) == 1
    assert store.counts() == {"queued": 0, "running": 0, "done": 0, "dead": 1}
    assert store.get("a") is None
    assert store.get("b").payload == b'{"x": 1}'


def test_one_model_is_written_by_one_replica_at_a_time(replica):
    first, second = replica(), replica()
    inside: list[str] = []
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with first.model_lock("acme/models", "fraud"):
            inside.append("first in")
            entered.set()
            release.wait(10)
            inside.append("first out")

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    with second.model_lock("acme/models", "churn"):  # another model: no wait
        inside.append("churn")
    waiter = threading.Thread(target=lambda: _enter(second, inside))
    waiter.start()
    time.sleep(0.3)
    assert "second in" not in inside  # still waiting for the first replica
    release.set()
    holder.join(10)
    waiter.join(10)
    assert inside == ["first in", "churn", "first out", "second in"]


def _enter(store: JobStore, inside: list[str]) -> None:
    with store.model_lock("acme/models", "fraud"):
        inside.append("second in")


def test_a_failed_write_releases_the_model(replica):
    store = replica()
    with pytest.raises(RuntimeError), store.model_lock("acme/models", "fraud"):
        raise RuntimeError("the registry write failed")
    done = threading.Event()

    def again() -> None:
        with replica().model_lock("acme/models", "fraud"):
            done.set()

    threading.Thread(target=again).start()
    assert done.wait(10)


def test_the_store_answers_its_health_check(replica):
    assert replica().ping()


def test_one_replica_asks_for_a_missed_delivery_and_again_only_much_later(replica):
    stores = [replica(), replica(), replica()]
    now = time.time()
    winners = []
    start = threading.Barrier(len(stores))

    def ask(store: JobStore) -> None:
        start.wait()
        winners.append(store.claim_redelivery("guid-1", now=now))

    threads = [threading.Thread(target=ask, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(winners) == [False, False, True]
    assert not stores[0].claim_redelivery("guid-1", now=now + 60, again_after=600)
    assert stores[1].claim_redelivery("guid-1", now=now + 601, again_after=600)
    assert stores[2].claim_redelivery("guid-2", now=now)
