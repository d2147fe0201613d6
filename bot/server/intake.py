"""Group commit: the request path's only way to write to the queue.

Every accepted delivery must be on disk before the 202 goes out, and a
durable SQLite commit costs an fsync. One writer thread takes every delivery
waiting at that moment and stores them in a single transaction, so under
load many requests share one fsync instead of queueing for SQLite's lock one
by one. The event loop never blocks on the disk: it awaits a future.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from bot.server.admission import DUPLICATE, IGNORED, NEW, Rejected, Routes, admit
from bot.server.store.jobs import DeliveryStore, NewJob

_MAX_BATCH = 256
# A big push can take a while to validate: not on the event loop.
_ADMIT_INLINE_BYTES = 512 * 1024


class Intake:
    """A writer thread that stores deliveries in batches and answers each request's future."""

    def __init__(
        self,
        store: DeliveryStore,
        routes: Routes,
        on_stored: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._routes = routes
        # Told how many new jobs were stored, so as many idle workers can wake.
        self._on_stored = on_stored or (lambda count: None)
        self._pending: list[tuple[NewJob, asyncio.Future[bool], asyncio.AbstractEventLoop]] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="mlbot-intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.stop)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def store(self, delivery_id: str, event: str, body: bytes) -> str | Rejected:
        """Admit a signed delivery and store it durably: NEW, DUPLICATE, IGNORED or Rejected."""
        if len(body) > _ADMIT_INLINE_BYTES:
            verdict = await asyncio.to_thread(admit, delivery_id, event, body, self._routes)
        else:
            verdict = admit(delivery_id, event, body, self._routes)
        if verdict is None:
            return IGNORED
        if isinstance(verdict, Rejected):
            return verdict
        return NEW if await self.submit(verdict) else DUPLICATE

    async def submit(self, job: NewJob) -> bool:
        """Store one job durably; True if it is new, False if this delivery was seen before."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._cond:
            if self._stopping:
                raise RuntimeError("the queue writer is stopped")
            self._pending.append((job, future, loop))
            self._cond.notify()
        return await future

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending and self._stopping:
                    return
                batch = self._pending[:_MAX_BATCH]
                del self._pending[:_MAX_BATCH]
            self._write(batch)

    def _write(
        self, batch: list[tuple[NewJob, asyncio.Future[bool], asyncio.AbstractEventLoop]]
    ) -> None:
        try:
            results: list[bool] | None = self._store.insert_many(job for job, _, _ in batch)
            error: Exception | None = None
        except Exception as exc:
            results, error = None, exc
        else:
            self._on_stored(sum(results))
        # One wake-up of each event loop per batch, not one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool]]] = {}
        for n, (_, future, loop) in enumerate(batch):
            by_loop.setdefault(loop, []).append((future, results[n] if results else False))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled, error)


def _settle_all(settled: list[tuple[asyncio.Future[bool], bool]], error: Exception | None) -> None:
    for future, new in settled:
        _settle(future, new, error)


def _settle(future: asyncio.Future[bool], result: bool, exc: Exception | None) -> None:
    # The client may have hung up and the request task been cancelled meanwhile.
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
