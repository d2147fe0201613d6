"""pytest fixtures for a running GitHub simulator, with OpenAPI validation enforced.

Use from any test module or conftest:

    from bot.simulator.pytest_plugin import github_sim, make_github_sim  # noqa: F401

`github_sim` is a started simulator with no faults; `make_github_sim(**kwargs)`
starts more (webhook URL and secret, `faults=Faults(...)`). At teardown each
simulator is stopped and the test fails if any request, response or webhook
broke GitHub's OpenAPI description.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulator.simulator import GitHubSimulator


@pytest.fixture
def make_github_sim(tmp_path: Path) -> Iterator[Callable[..., GitHubSimulator]]:
    started: list[GitHubSimulator] = []

    def make(**kwargs: Any) -> GitHubSimulator:
        sim = GitHubSimulator(tmp_path / f"github-sim-{len(started)}", **kwargs).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
    for sim in started:
        sim.assert_valid()


@pytest.fixture
def github_sim(make_github_sim: Callable[..., GitHubSimulator]) -> GitHubSimulator:
    return make_github_sim()
