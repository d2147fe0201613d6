"""Races and faults: many commands on one model at once, and GitHub misbehaving."""

from __future__ import annotations

import re

from bot.registry.check import check
from bot.registry.git_store import GitStore
from bot.simulator import Faults
from tests.e2e.conftest import World

KEY = re.compile(r"<!-- mlbot:(?:reply|pending|done) (\d+)\.1 part 1")


def answers(world: World, number: int) -> dict[int, list[str]]:
    """Command comment id -> the bot's replies to it."""
    out: dict[int, list[str]] = {}
    for body in world.command_replies(number):
        m = KEY.match(body)
        assert m, body[:200]
        out.setdefault(int(m[1]), []).append(body)
    return out


def assert_registry_whole(world: World) -> None:
    """One line of commits, each registry commit with every tag it declares."""
    assert world.git("rev-list", "--merges", "main").strip() == ""
    problems = check(GitStore(world.git_dir, branch="main"))
    assert problems == [], [str(p) for p in problems]


COMMANDS = (
    ("bob", "/rollback cancer because incident"),
    ("alice", "/promote cancer v1.0.0 to staging"),
    ("dave", "/promote cancer v1.1.0 to staging"),
    ("alice", "/rollback cancer to v1.1.0 because back"),
    ("bob", "/promote cancer v1.2.0 to staging"),
)


def test_twenty_concurrent_commands_leave_a_linear_history_and_every_loser_is_told(
    make_world,
) -> None:
    world: World = make_world(workers=8)
    issue = world.issue("Incident: flapping model")
    world.settle()
    commits_before = len(world.registry_log())
    ids = [
        world.comment(issue, body, user=user)
        for user, body in (COMMANDS[i % len(COMMANDS)] for i in range(20))
    ]
    world.settle(timeout=180)

    got = answers(world, issue)
    assert sorted(got) == sorted(ids), "every command gets exactly one answer"
    assert all(len(r) == 1 for r in got.values())
    done = [r[0] for r in got.values() if "mlbot:done" in r[0]]
    told = [r[0] for r in got.values() if "mlbot:done" not in r[0]]
    assert done, "some commands won"
    assert len(done) + len(told) == 20
    for reply in told:  # a loser hears why nothing was written
        assert any(
            why in reply.lower()
            for why in ("already live", "kept moving", "nothing was written", "no previous")
        ), reply
    assert len(world.registry_log()) - commits_before == len(done)
    assert_registry_whole(world)


def test_with_injected_faults_every_command_ends_done_or_reported(make_world) -> None:
    faults = Faults(rate=0.0, seed=7, kinds=("error", "timeout", "rate_limit"), timeout_delay=1.0)
    world: World = make_world(faults=faults, workers=4)
    pr = world.open_pr()
    world.review(pr, user="alice")
    issue = world.issue()
    world.settle()
    faults.rate = 0.10
    asked = {
        pr: [world.comment(pr, "/promote"), world.comment(pr, "/status cancer")],
        issue: [
            world.comment(issue, "/rollback cancer because faults", user="bob"),
            world.comment(issue, "/promote cancer v1.0.0 to staging", user="alice"),
            world.comment(issue, "/help", user="erin"),
        ],
    }
    world.settle(timeout=300)
    faults.rate = 0.0
    injected = sum(1 for r in world.sim.requests if r.fault)
    assert injected > 0
    for number, ids in asked.items():
        got = answers(world, number)
        for cid in ids:
            assert cid in got, f"comment {cid} on #{number} got no answer"
    assert_registry_whole(world)
