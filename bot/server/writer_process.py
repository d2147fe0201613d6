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

Frames, both ways, over a Unix socket pair: a 4-byte big-endian length, then
- request: a 4-byte length of a header (`id delivery_id event`, plain tokens
  the endpoint has checked), the header, then the raw payload;
- answer: a JSON list of [id, outcome] or [id, outcome, message], outcome one of
  "new", "duplicate", "ignored", "invalid" (with the 400's message) or
  "error" (the batch could not be stored); [0, "ready"] says the child is ready.
The child dies with the server (`PR_SET_PDEATHSIG`) and is restarted by it
if it exits; meanwhile deliveries are answered 503 and GitHub can redeliver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
from typing import Any

from bot.server import logs
from bot.server.admission import DUPLICATE, IGNORED, NEW, Rejected, Routes, admit
from bot.server.children import die_with_parent, read_settings, settings_line
from bot.server.settings import Settings
from bot.server.store import make_store
from bot.server.store.jobs import DeliveryStore, NewJob

log = logging.getLogger("mlbot.intake")

_LENGTH = struct.Struct("!I")
_RESTART_DELAY_SECONDS = 1.0
_READY_WAIT_SECONDS = 10.0
_READ_BYTES = 1 << 20


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
        self._outgoing += _frame(request_id, delivery_id, event, body)
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
                    "bot.server.writer_process",
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
        for frame in _frames(self._buffer):
            self._owner._answered(json.loads(frame))

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._lost()


def _frames(buffer: bytearray) -> list[bytes]:
    """Take every complete frame off the front of buffer."""
    frames: list[bytes] = []
    start = 0
    while len(buffer) - start >= _LENGTH.size:
        (size,) = _LENGTH.unpack_from(buffer, start)
        end = start + _LENGTH.size + size
        if len(buffer) < end:
            break
        frames.append(bytes(buffer[start + _LENGTH.size : end]))
        start = end
    del buffer[:start]
    return frames


def _header(request_id: int, job: NewJob) -> bytes:
    # Space separated, the action last (it alone may hold spaces; "-" marks none,
    # "+" prefixes a value): cheaper than JSON, and the endpoint has already
    # checked that the delivery id and the event name are plain tokens.
    installation = "" if job.installation_id is None else str(job.installation_id)
    action = "-" if job.action is None else "+" + job.action
    return f"{request_id} {job.delivery_id} {job.event} {installation} {action}".encode()


# -- the child ----------------------------------------------------------------------


Request = tuple[int, str, str, bytes]  # request id, delivery id, event, payload


def _frame(request_id: int, delivery_id: str, event: str, body: bytes) -> tuple[bytes, ...]:
    """A request frame, in pieces for one writelines()."""
    header = f"{request_id} {delivery_id} {event}".encode()
    size = _LENGTH.size + len(header) + len(body)
    return (_LENGTH.pack(size), _LENGTH.pack(len(header)), header, body)


def _request(frame: bytes) -> Request:
    """(request id, delivery id, event, payload) of a request frame."""
    (header_size,) = _LENGTH.unpack_from(frame, 0)
    header_end = _LENGTH.size + header_size
    request_id, delivery_id, event = frame[_LENGTH.size : header_end].decode().split(" ")
    return int(request_id), delivery_id, event, frame[header_end:]


def _handle(requests: list[Request], store: DeliveryStore, routes: Routes) -> list[list[Any]]:
    """Admit each delivery, store the jobs in one transaction, and say what became of each."""
    answers: list[list[Any]] = []
    jobs: list[tuple[list[Any], NewJob]] = []
    for request_id, delivery_id, event, body in requests:
        try:
            verdict = admit(delivery_id, event, body, routes)
        except Exception as exc:  # a bug in a model must not take the batch down
            log.exception("a delivery could not be admitted", extra={"delivery_id": delivery_id})
            answers.append([request_id, "error", type(exc).__name__])
            continue
        if verdict is None:
            answers.append([request_id, IGNORED])
        elif isinstance(verdict, Rejected):
            answers.append([request_id, "invalid", verdict.message])
        else:
            answer = [request_id, NEW]
            answers.append(answer)
            jobs.append((answer, verdict))
    if jobs:
        try:
            results = store.insert_many(job for _, job in jobs)
        except Exception as exc:
            log.exception("the queue could not store a batch of deliveries")
            for answer, _ in jobs:
                answer[1:] = ["error", type(exc).__name__]
        else:
            for (answer, _), new in zip(jobs, results, strict=True):
                answer[1] = NEW if new else DUPLICATE
    return answers


def _send(sock: socket.socket, answers: list[list[Any]]) -> None:
    data = json.dumps(answers).encode()
    sock.sendall(_LENGTH.pack(len(data)) + data)


def main(argv: list[str]) -> int:
    fd, parent = int(argv[0]), int(argv[1])
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when we stop
    settings = read_settings(sys.stdin.buffer.readline())
    routes = Routes.of(map(tuple, json.loads(sys.stdin.buffer.readline())), settings.bot_login)
    logs.configure(settings.log_level, settings.secret_values())
    sock = socket.socket(fileno=fd)
    store: DeliveryStore = make_store(
        settings.store_location(), intake_sync=settings.queue_sync, connections=2
    )
    store.open()
    _send(sock, [[0, "ready"]])
    buffer = bytearray()
    try:
        while True:
            chunk = sock.recv(_READ_BYTES)
            if not chunk:
                return 0
            buffer += chunk
            # Everything that arrived while the last batch was committing is one batch.
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                while chunk := sock.recv(_READ_BYTES):
                    buffer += chunk
            sock.setblocking(True)
            requests = [_request(frame) for frame in _frames(buffer)]
            if requests:
                _send(sock, _handle(requests, store, routes))
    finally:
        store.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
