"""The primary rate limit: a budget of requests an hour, and what counts against it.

As on GitHub, every authenticated API request counts, except `GET /rate_limit` and a
`304 Not Modified` answer to a conditional request; once the budget is spent, requests
get 403 until the window resets. The simulator keeps one budget for all callers
(GitHub keeps one per user and one per installation); `rate_limit_remaining` and
`rate_limit_reset` can be set by a test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.simulator.request import ApiError, LoggedRequest

if TYPE_CHECKING:
    from bot.simulator.world import World

WINDOW = 3600.0
UNCOUNTED_OPERATIONS = {"rate-limit/get"}


def _roll(sim: World) -> None:
    now = sim.now()
    if sim.rate_limit_reset is not None and now >= sim.rate_limit_reset:
        sim.rate_limit_remaining = sim.rate_limit_limit
        sim.rate_limit_reset = None
    if sim.rate_limit_reset is None:
        sim.rate_limit_reset = now + WINDOW


def admit(sim: World, entry: LoggedRequest) -> None:
    """Refuse a counted request once the budget is spent, as GitHub does."""
    if entry.operation_id in UNCOUNTED_OPERATIONS:
        return
    _roll(sim)
    if sim.rate_limit_remaining <= 0:
        who = f"installation ID {entry.installation_id}" if entry.installation_id else "user"
        raise ApiError(403, f"API rate limit exceeded for {who}.")
    entry.counted = True


def charge(sim: World, entry: LoggedRequest) -> None:
    """Spend one request of the budget for an answer that counts."""
    if entry.counted:
        sim.rate_limit_remaining = max(0, sim.rate_limit_remaining - 1)


def rate_limit_headers(sim: World) -> dict[str, str]:
    reset = sim.rate_limit_reset or sim.now() + WINDOW
    return {
        "X-RateLimit-Limit": str(sim.rate_limit_limit),
        "X-RateLimit-Remaining": str(sim.rate_limit_remaining),
        "X-RateLimit-Reset": str(int(reset)),
        "X-RateLimit-Used": str(sim.rate_limit_limit - sim.rate_limit_remaining),
        "X-RateLimit-Resource": "core",
    }
