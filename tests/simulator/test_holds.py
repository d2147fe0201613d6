"""Holds: chosen requests wait until the test releases them, others pass."""

from __future__ import annotations

import threading

import httpx

from bot.simulator import Faults, GitHubSimulator


def test_a_held_request_waits_for_release_and_others_pass(make_github_sim) -> None:
    sim: GitHubSimulator = make_github_sim(faults=Faults())
    sim.create_repo("acme/models")
    token = sim.add_token("alice")
    hold = sim.faults.hold("GET", "/repos/acme/models")
    answers: list[int] = []

    def held_get() -> None:
        with httpx.Client(base_url=sim.url, headers={"Authorization": f"token {token}"}) as c:
            answers.append(c.get("/repos/acme/models").status_code)

    thread = threading.Thread(target=held_get)
    thread.start()
    assert hold.wait_for_arrivals(1, 10)
    with httpx.Client(base_url=sim.url, headers={"Authorization": f"token {token}"}) as c:
        assert c.get("/rate_limit").status_code == 200  # not held
    assert answers == []  # still held
    hold.release()
    thread.join(10)
    assert answers == [200]
    assert (hold.arrived, hold.expired) == (1, 0)


def test_a_forgotten_hold_lets_go_after_its_limit(make_github_sim) -> None:
    sim: GitHubSimulator = make_github_sim(faults=Faults())
    sim.create_repo("acme/models")
    token = sim.add_token("alice")
    hold = sim.faults.hold("GET", "/repos/acme/models", limit=0.2)
    with httpx.Client(base_url=sim.url, headers={"Authorization": f"token {token}"}) as c:
        assert c.get("/repos/acme/models").status_code == 200
    assert (hold.arrived, hold.expired) == (1, 1)
