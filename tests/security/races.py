"""Two approvals completing one pending `/promote` at the same moment, made to happen.

A completion finds the command pending (the bot's replies, read inside the command's
lock), then judges it, starting with the requester's permission. The simulator holds
the first completion at that permission read until the second completion has either
reached the same read (nothing serialised them: both found the command pending, both
will complete it) or is seen waiting for the first one's lock; then both go on. No
sleeps and no hooks in the bot: which of the two happened is observed, not hoped for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.e2e.conftest import World
from tests.security.attacks import KEY
from tests.server.live import wait_for

# Below the bot's 15-second client timeout: a held request is never retried as lost.
HOLD_LIMIT = 12.0


@dataclass(frozen=True)
class Race:
    # "both": the second completion reached the permission read while the first was held
    # there (the race happened); "waited": it was seen waiting for the first one's lock.
    second: str
    replies: list[str]  # the bot's replies to the command, oldest first
    edited: list[str]  # PATCHed comments among them (a second answer written over the first)
    promoted: int  # registry commits promoting cancer v1.2.0 to production


def two_approvals_at_once(
    world: World,
    pr: int,
    command_id: int,
    *,
    second: Callable[[], None],
    waiting: Callable[[], bool],
    requester: str = "carol",
) -> Race:
    """alice approves; her completion is held; `second()` makes bob approve elsewhere."""
    path = f"/repos/{world.repo}/collaborators/{requester}/permission"
    hold = world.sim.faults.hold("GET", path, limit=HOLD_LIMIT)
    start = len(world.sim.requests)
    world.review(pr, user="alice")
    assert hold.wait_for_arrivals(1, 60), "the first completion never judged the command"
    second()
    outcome = wait_for(
        lambda: "both" if hold.arrived >= 2 else "waited" if waiting() else hold.expired > 0,
        timeout=60,
        what="the second completion to reach the command or wait for its lock",
    )
    hold.release()
    assert outcome is not True, "the first completion waited out the hold: no race was run"
    world.settle()
    assert hold.expired == 0, "a held request waited out its limit: the race was not run"
    replies = [
        c
        for c in world.sim.comments_on(world.repo, pr)
        if (m := KEY.match(c.body)) and m["key"] == f"{command_id}.1" and m["part"] == "1"
    ]
    patched = {
        r.path.rsplit("/", 1)[-1]
        for r in world.sim.requests[start:]
        if r.method == "PATCH" and "/issues/comments/" in r.path
    }
    promoted = [
        m
        for m in world.registry_log()
        if m.startswith("registry: promote cancer v1.2.0 to production")
    ]
    return Race(
        outcome,
        [c.body for c in replies],
        [c.body for c in replies if str(c.id) in patched],
        len(promoted),
    )


def kinds(replies: list[str]) -> list[str]:
    return [m["kind"] if (m := KEY.match(body)) else "?" for body in replies]


def assert_promoted_once(world: World, race: Race, *, if_not_waited: str) -> None:
    """What the user sees after the race: a pending reply, then one done reply written
    once and never over, one promotion, v1.2.0 live; and the second completion was seen
    waiting (`if_not_waited` says what it did instead)."""
    assert kinds(race.replies) == ["pending", "done"], race.replies
    assert "Promoted cancer v1.2.0 to production" in race.replies[1]
    assert race.edited == [], race.edited
    assert race.promoted == 1
    assert race.second == "waited", if_not_waited
    assert world.live()["production"] == "v1.2.0"
