"""Fixtures of the adversarial suite: the e2e world (the real server, a simulated GitHub)
and the server tests' real PostgreSQL."""

from __future__ import annotations

from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401 - fixture
from tests.e2e.conftest import make_world, registry_template, world  # noqa: F401 - fixtures
from tests.server.conftest import postgres_server, postgres_url  # noqa: F401 - fixtures
