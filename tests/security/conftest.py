"""Fixtures of the adversarial suite: the e2e world (the real server, a simulated GitHub)."""

from __future__ import annotations

from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401 - fixture
from tests.e2e.conftest import make_world, registry_template, world  # noqa: F401 - fixtures
