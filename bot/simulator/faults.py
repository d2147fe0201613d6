"""Fault injection: seeded, at a configurable rate, or scripted for the next requests;
and holds, which stop chosen requests until a test lets them go (a race, made to happen)."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field

# rate_limit: GitHub's secondary rate limit as a 403; too_many_requests: the same as a 429.
KINDS = ("latency", "error", "timeout", "rate_limit", "too_many_requests")


@dataclass
class Hold:
    """Requests with this method and path wait here, answered only once `release()` is called.

    A test holds one client at a chosen step (the first replica, say, after it found a
    command pending and before it judges it) until a second client has reached the same
    step or is seen waiting elsewhere, then lets every held request go at once. Each
    request waits at most `limit` seconds, so a hold a test forgets never hangs anything
    (it stays below the bot's 15-second client timeout). Released, it holds nothing more.
    """

    method: str
    path: str
    limit: float = 10.0
    arrived: int = field(default=0, init=False)
    # Held requests that waited out `limit` instead of being released.
    expired: int = field(default=0, init=False)
    _released: bool = field(default=False, init=False, repr=False)
    _cond: threading.Condition = field(init=False, repr=False, default_factory=threading.Condition)

    def matches(self, method: str, path: str) -> bool:
        return method.upper() == self.method.upper() and path == self.path

    def wait_for_arrivals(self, count: int, timeout: float) -> bool:
        """Whether `count` matching requests arrived (held or passed) within `timeout`."""
        with self._cond:
            return self._cond.wait_for(lambda: self.arrived >= count, timeout)

    def release(self) -> None:
        with self._cond:
            self._released = True
            self._cond.notify_all()

    def enter(self) -> None:
        """One matching request: counted, then held until released (or `limit`)."""
        deadline = time.monotonic() + self.limit
        with self._cond:
            self.arrived += 1
            self._cond.notify_all()
            while not self._released:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.expired += 1
                    return
                self._cond.wait(left)


@dataclass
class Faults:
    """What goes wrong, and how often.

    - `rate`: probability that a request gets a fault, drawn from `kinds`.
    - `latency`: extra seconds for a "latency" fault; `latency_per_call` is added to every call.
    - `timeout_delay`: how long a "timeout" fault holds the connection before dropping it
      (longer than the client's timeout, so the client gives up).
    - `retry_after`: seconds announced in Retry-After for secondary rate limits.
    - `timeout_after_action`: a "timeout" fault first does what was asked, then drops the
      answer (the write happened; the client cannot know), instead of dropping it unseen.
    - `only_paths`: restrict faults to API paths starting with one of these prefixes.
    - `hold(method, path)`: matching requests wait until the test releases them (`Hold`).
    """

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    latency: float = 0.2
    latency_per_call: float = 0.0
    timeout_delay: float = 2.0
    retry_after: int = 1
    timeout_after_action: bool = False
    only_paths: tuple[str, ...] = ()
    _rng: random.Random = field(init=False, repr=False)
    _scripted: deque[str] = field(init=False, repr=False, default_factory=deque)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _holds: list[Hold] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
        self._rng = random.Random(self.seed)

    def script(self, *kinds: str) -> None:
        """The next requests get these faults, in order, before random ones resume."""
        with self._lock:
            for kind in kinds:
                if kind not in KINDS:
                    raise ValueError(f"unknown fault kind {kind!r}")
                self._scripted.append(kind)

    def hold(self, method: str, path: str, *, limit: float = 10.0) -> Hold:
        """From now on, requests `method path` (exactly; no query) wait for `release()`."""
        held = Hold(method, path, limit)
        with self._lock:
            self._holds.append(held)
        return held

    def wait_if_held(self, method: str, path: str) -> None:
        with self._lock:
            holds = [h for h in self._holds if h.matches(method, path)]
        for held in holds:
            held.enter()

    def draw(self, path: str) -> str | None:
        if self.only_paths and not path.startswith(self.only_paths):
            return None
        with self._lock:
            if self._scripted:
                return self._scripted.popleft()
            if self.rate > 0 and self._rng.random() < self.rate:
                return self._rng.choice(self.kinds)
        return None
