"""The bot's registry write holds the store's model lock: another replica writing
the same model makes it wait, a different model does not.

The real bot (commands, simulator, registry on the GitHub API) on a real
PostgreSQL store; "another replica" is a second store instance on the same
database holding the lock, as a replica in the middle of a write would.
"""

from __future__ import annotations

import time

from bot.server.store import make_store
from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401 (a fixture)
from tests.e2e.conftest import REPO, make_world, registry_template  # noqa: F401 (fixtures)
from tests.server.live import queue_counts, wait_for


def test_a_rollback_waits_while_another_replica_writes_that_model(make_world, postgres_url):  # noqa: F811
    world = make_world(database=postgres_url)
    other = make_store(postgres_url)
    other.open()
    try:
        issue = world.issue()
        with other.model_lock(REPO, "cancer"):
            world.comment(issue, "/rollback cancer because error rate doubled", user="bob")
            wait_for(lambda: queue_counts(postgres_url)["running"] == 1, what="the job to run")
            time.sleep(3)  # long enough for the write, were it not waiting
            assert world.live()["production"] == "v1.1.0"
            assert queue_counts(postgres_url)["running"] == 1
        world.settle()
        assert world.live()["production"] == "v1.0.0"
        assert "Rolled back cancer production to v1.0.0" in world.last_reply(issue)
    finally:
        other.close()


def test_another_models_write_does_not_wait(make_world, postgres_url):  # noqa: F811
    world = make_world(database=postgres_url)
    other = make_store(postgres_url)
    other.open()
    try:
        issue = world.issue()
        with other.model_lock(REPO, "churn"):
            world.comment(issue, "/rollback cancer because error rate doubled", user="bob")
            world.settle()
            assert world.live()["production"] == "v1.0.0"
    finally:
        other.close()
