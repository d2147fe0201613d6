"""Exactly one reply per outcome on one replica: two worker threads, two approvals at once.

The replica's workers run in this process; two owners approve a pending `/promote`
at the same moment, and the simulator holds the first completion after it found the
command pending until the second has got as far or is seen waiting for the first
(`tests.security.races`). The two-replica case, on PostgreSQL, is `test_replicas`.
"""

from __future__ import annotations

import gc
import sys

from bot.commands import once
from tests.security.attacks import World
from tests.security.races import assert_promoted_once, two_approvals_at_once


def waiting_in_serialised() -> bool:
    """Whether a thread of this process waits in `once.serialised` for a command's lock.

    While the first completion holds the lock, a second one of the same command blocks
    on the lock's acquire: a C call, so `serialised` itself is its thread's top frame.
    (Only top frames are read: walking `f_back` of another running thread's frame can
    crash CPython 3.11.)
    """
    code = once.serialised.__wrapped__.__code__  # type: ignore[attr-defined]
    # Without the collector: CPython 3.11 builds that dict holding the runtime's thread
    # list lock, and a collection inside it can run a finalizer (a pooled HTTP socket's
    # close) that lets go of the GIL, while a thread of the simulator that is starting
    # or ending holds the GIL waiting for that lock: both wait for ever (seen once here).
    collecting = gc.isenabled()
    gc.disable()
    try:
        frames = sys._current_frames()
    finally:
        if collecting:
            gc.enable()
    return any(frame.f_code is code for frame in frames.values())


def test_approvals_on_two_worker_threads_complete_a_pending_command_once(make_world) -> None:
    """Checked to fail without the lock: with `once.serialised` reduced to a bare
    `yield`, the second worker reaches the held permission read too and answers a second
    time (a refusal, "already live", after the first one's done reply). With it, the
    second worker is seen waiting in `once.serialised`, then finds the done reply and
    says nothing.
    """
    world: World = make_world(workers=2)
    pr = world.open_pr()
    cid = world.comment(pr, "/promote")
    world.settle()
    race = two_approvals_at_once(
        world,
        pr,
        cid,
        second=lambda: world.review(pr, user="bob"),
        waiting=waiting_in_serialised,
    )
    assert_promoted_once(
        world, race, if_not_waited="the second worker judged the command the first was completing"
    )
