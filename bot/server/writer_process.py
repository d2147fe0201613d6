"""Group commit in a child process: `mlbot serve`'s way to store deliveries.

The queue writer as a thread (`bot.server.intake.Intake`) shares the GIL
with the event loop: each batch it stores makes the two hand the GIL back and
forth several times, which costs the acknowledging process about as much CPU
as SQLite itself. As a child process it runs beside the loop instead, and the
loop only writes each delivery to a socket and reads the answers.

The guarantee is the same: a delivery is answered 202 only after the writer
has committed it (with `MLBOT_QUEUE_SYNC=full`, an fsync). The writer stores
what has arrived while it was committing the previous batch in one
transaction, so under load many deliveries share one fsync.

The child also decides what becomes of each delivery (`bot.server.admission`:
validate the payload against the event's model, route it, store it), so the
acknowledging process only checks the signature and headers, and a payload's
validation runs beside its event loop rather than in it.

The two talk in length-prefixed frames over a Unix socket pair
(`bot.server.writer_frames`); the child is `bot.server.writer_child`. It dies
with the server and is restarted by it if it exits; meanwhile deliveries are
answered 503 and GitHub can redeliver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
from typing import Any

from bot.server.admission import DUPLICATE, IGNORED, NEW, Rejected, Routes
from bot.server.children import settings_line
from bot.server.settings import Settings
from bot.server.writer_frames import request_frame, take_frames

log = logging.getLogger("mlbot.intake")

_RESTART_DELAY_SECONDS = 1.0
_READY_WAIT_SECONDS = 10.0


class WriterProcess:
    """The server's side of the queue writer in a child process (`Intake` is the thread)."""

    def __init__(self, settings: Settings, routes: Routes, on_stored: Any = None) -> None:
        self._settings = settings
        self._routes = routes
        self._on_stored = on_stored or (lambda count: None)
        self._proc: subprocess.Popen[bytes] | None = None
        self._transport: asyncio.Transport | None = None
        self._pending: dict[int, asyncio.Future[str | Rejected]] = {}
        self._outgoing: list[bytes] = []
        self._next_id = 1
        self._ready = False
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready_now: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Start the child; call from the event loop's thread (the child dies with it)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._spawn()

    def alive(self) -> bool:
        proc = self._proc
        return self._ready and proc is not None and proc.poll() is None

    async def aclose(self) -> None:
        """Stop the child: it stores what it has received, answers, and exits."""
        self._stopping = True
        if self._transport is not None:
            self._transport.close()  # the child reads end of file
        if self._proc is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._reap, self._proc)

    @staticmethod
    def _reap(proc: subprocess.Popen[bytes]) -> None:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    async def store(self, delivery_id: str, event: str, body: bytes) -> str | Rejected:
        """Admit a signed delivery and store it durably: NEW, DUPLICATE, IGNORED or Rejected."""
        if self._stopping:
            raise RuntimeError("the queue writer is stopped")
        if not self._ready and self._ready_now is not None:
            # Starting or restarting: worth a short wait rather than a 503.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._ready_now), _READY_WAIT_SECONDS)
        transport = self._transport
        if transport is None or transport.is_closing() or not self._ready:
            raise RuntimeError("the queue writer is not running")
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[str | Rejected] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        if not self._outgoing:
            # Every request of this turn of the loop goes out in one write.
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing += request_frame(request_id, delivery_id, event, body)
        try:
            return await future
        finally:
            self._pending.pop(request_id, None)

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if self._transport is not None and not self._transport.is_closing():
            self._transport.writelines(outgoing)

    # -- the child's lifecycle ----------------------------------------------------

    def _spawn(self) -> None:
        assert self._loop is not None
        ours, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.server.writer_child",
                    str(theirs.fileno()),
                    str(os.getpid()),
                ],
                stdin=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
            )
        except OSError:
            ours.close()
            log.exception("the queue writer could not be started")
            self._loop.call_later(_RESTART_DELAY_SECONDS, self._respawn)
            return
        finally:
            theirs.close()
        assert self._proc.stdin is not None
        self._proc.stdin.write(settings_line(self._settings))
        self._proc.stdin.write(json.dumps(self._routes.as_list()).encode() + b"\n")
        self._proc.stdin.close()
        self._ready_now = self._loop.create_future()
        self._loop.create_task(self._connect(ours))

    async def _connect(self, sock: socket.socket) -> None:
        assert self._loop is not None
        transport, _ = await self._loop.create_connection(lambda: _Answers(self), sock=sock)
        self._transport = transport  # type: ignore[assignment]

    def _respawn(self) -> None:
        if not self._stopping:
            self._spawn()

    def _answered(self, answers: list[list[Any]]) -> None:
        new = 0
        for request_id, outcome, *message in answers:
            if request_id == 0:
                self._ready = True
                if self._ready_now is not None and not self._ready_now.done():
                    self._ready_now.set_result(None)
                continue
            future = self._pending.get(request_id)
            if future is None or future.done():
                continue  # the client hung up meanwhile
            if outcome in (NEW, DUPLICATE, IGNORED):
                new += outcome == NEW
                future.set_result(outcome)
            elif outcome == "invalid":
                future.set_result(Rejected(message[0]))
            else:
                future.set_exception(RuntimeError(f"the queue could not store it: {message}"))
        if new:
            self._on_stored(new)

    def _lost(self) -> None:
        self._ready = False
        self._transport = None
        self._outgoing = []
        error = RuntimeError("the queue writer stopped")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        if self._stopping:
            return
        code = self._proc.poll() if self._proc is not None else None
        log.error("the queue writer exited; restarting it", extra={"exit_code": code})
        if self._proc is not None and code is None:
            self._proc.kill()
        if self._proc is not None:
            self._proc.wait()
        assert self._loop is not None
        self._loop.call_later(_RESTART_DELAY_SECONDS, self._respawn)


class _Answers(asyncio.Protocol):
    def __init__(self, owner: WriterProcess) -> None:
        self._owner = owner
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        for frame in take_frames(self._buffer):
            self._owner._answered(json.loads(frame))

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._lost()
