"""Injected faults: what each one looks like on the wire, and how often they come."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from bot.simulator import Faults, GitHubSimulator
from bot.simulator.pipeline import SECONDARY_RATE_LIMIT


@pytest.fixture
def sim(make_github_sim) -> GitHubSimulator:
    sim = make_github_sim(faults=Faults(timeout_delay=0.6, latency=0.01))
    sim.create_repo("acme/models")
    return sim


def client(sim: GitHubSimulator, timeout: float = 5) -> httpx.Client:
    token = sim.add_token("alice")
    return httpx.Client(
        base_url=sim.url, headers={"Authorization": f"token {token}"}, timeout=timeout
    )


def test_each_scripted_fault_looks_like_github(sim: GitHubSimulator) -> None:
    sim.faults.script("error", "rate_limit", "too_many_requests", "latency", "timeout")
    with client(sim, timeout=0.3) as c:
        assert c.get("/repos/acme/models").status_code == 502
        limited = c.get("/repos/acme/models")
        assert limited.status_code == 403
        assert limited.headers["Retry-After"] == "1"
        assert limited.json()["message"] == SECONDARY_RATE_LIMIT
        too_many = c.get("/repos/acme/models")
        assert (too_many.status_code, too_many.headers["Retry-After"]) == (429, "1")
        assert c.get("/repos/acme/models").status_code == 200  # slow, but answered
        with pytest.raises(httpx.ReadTimeout):
            c.get("/repos/acme/models")
        assert c.get("/repos/acme/models").status_code == 200  # the script is spent
    assert [r.fault for r in sim.requests] == [
        "error",
        "rate_limit",
        "too_many_requests",
        "latency",
        "timeout",
        None,
    ]


def test_the_fault_rate_is_honoured_and_seeded(make_github_sim) -> None:
    def run(seed: int, n: int) -> list[str | None]:
        sim = make_github_sim(faults=Faults(rate=0.25, seed=seed, kinds=("error", "rate_limit")))
        with client(sim) as c:
            for _ in range(n):
                c.get("/rate_limit")  # the cheapest answer to validate
        return [r.fault for r in sim.requests]

    faults = run(7, 400)
    counts = Counter(faults)
    assert len(faults) == 400
    # 100 expected; a binomial(400, 0.25) lies in [70, 130] with probability > 0.999.
    assert 70 <= counts["error"] + counts["rate_limit"] <= 130
    assert counts["error"] > 20 and counts["rate_limit"] > 20
    assert run(7, 100) == faults[:100]  # same seed, same faults
    assert run(8, 100) != faults[:100]


def test_faults_can_be_limited_to_some_paths(sim: GitHubSimulator) -> None:
    sim.faults = Faults(rate=1.0, kinds=("error",), only_paths=("/repos/acme/models/issues",))
    with client(sim) as c:
        assert c.get("/repos/acme/models").status_code == 200
        assert c.get("/repos/acme/models/issues").status_code == 502


def test_unknown_fault_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kinds"):
        Faults(kinds=("explode",))
