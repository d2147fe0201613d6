"""The two halves of the server behind `POST /webhook`, whichever way they run.

The intake stores deliveries; the workers run their jobs. Each comes as
threads of the server (`Intake`, `WorkerPool`: tests, `bot.demo_bot`) or as
a child process (`WriterProcess`, `WorkerProcess`: `mlbot serve`); the app
and the endpoint see only these interfaces.
"""

from __future__ import annotations

from typing import Protocol

from bot.server.admission import Rejected


class DeliveryIntake(Protocol):
    def start(self) -> None:
        """Start; called from the event loop's thread."""
        ...

    def alive(self) -> bool: ...

    async def store(self, delivery_id: str, event: str, body: bytes) -> str | Rejected:
        """Admit a signed delivery and store it durably: NEW, DUPLICATE, IGNORED or Rejected."""
        ...

    async def aclose(self) -> None:
        """Store and answer what has arrived, then stop."""
        ...


class Workers(Protocol):
    def start(self) -> None: ...

    def wake(self, count: int = 1) -> None:
        """`count` new jobs were stored."""
        ...

    def stop(self, timeout: float = ...) -> None:
        """Let running jobs finish (up to timeout); one still running is resumed later."""
        ...

    def alive(self) -> bool: ...
