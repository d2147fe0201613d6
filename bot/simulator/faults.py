"""Fault injection: seeded, at a configurable rate, or scripted for the next requests."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass, field

# rate_limit: GitHub's secondary rate limit as a 403; too_many_requests: the same as a 429.
KINDS = ("latency", "error", "timeout", "rate_limit", "too_many_requests")


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

    def draw(self, path: str) -> str | None:
        if self.only_paths and not path.startswith(self.only_paths):
            return None
        with self._lock:
            if self._scripted:
                return self._scripted.popleft()
            if self.rate > 0 and self._rng.random() < self.rate:
                return self._rng.choice(self.kinds)
        return None
