"""The queue writer's child process (`python -m bot.server.writer_child FD PARENT`).

Started by `bot.server.writer_process.WriterProcess`, it reads its settings and
routes on stdin, then request frames on its socket (`bot.server.writer_frames`):
it admits each delivery (`bot.server.admission`: validate the payload against
the event's model, route it), stores the batch's jobs in one transaction and
answers each request. Whatever arrived while the last batch was committing is
the next batch, so under load many deliveries share one commit. It dies with
the server (`PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import sys
from typing import Any

from bot.server import logs
from bot.server.admission import DUPLICATE, IGNORED, NEW, Rejected, Routes, admit
from bot.server.children import die_with_parent, read_settings
from bot.server.store import make_store
from bot.server.store.jobs import DeliveryStore, NewJob
from bot.server.writer_frames import Request, answer_frame, parse_request, take_frames

log = logging.getLogger("mlbot.intake")

READ_BYTES = 1 << 20


def store_batch(requests: list[Request], store: DeliveryStore, routes: Routes) -> list[list[Any]]:
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
    sock.sendall(answer_frame([[0, "ready"]]))
    buffer = bytearray()
    try:
        while True:
            chunk = sock.recv(READ_BYTES)
            if not chunk:
                return 0
            buffer += chunk
            # Everything that arrived while the last batch was committing is one batch.
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                while chunk := sock.recv(READ_BYTES):
                    buffer += chunk
            sock.setblocking(True)
            requests = [parse_request(frame) for frame in take_frames(buffer)]
            if requests:
                sock.sendall(answer_frame(store_batch(requests, store, routes)))
    finally:
        store.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
