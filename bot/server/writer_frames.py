"""The queue writer's wire format, between the acknowledging process and its child.

Frames, both ways, over a Unix socket pair: a 4-byte big-endian length, then
- request: a 4-byte length of a header (`id delivery_id event`, plain tokens
  the endpoint has checked), the header, then the raw payload;
- answer: a JSON list of [id, outcome] or [id, outcome, message], outcome one of
  "new", "duplicate", "ignored", "invalid" (with the 400's message) or
  "error" (the batch could not be stored); [0, "ready"] says the child is ready.

Length-prefixed bytes rather than JSON for requests: a payload crosses as it
arrived, neither escaped nor parsed on the way.
"""

from __future__ import annotations

import json
import struct
from typing import Any

LENGTH = struct.Struct("!I")

Request = tuple[int, str, str, bytes]  # request id, delivery id, event, payload


def request_frame(request_id: int, delivery_id: str, event: str, body: bytes) -> tuple[bytes, ...]:
    """A request frame, in pieces for one writelines()."""
    header = f"{request_id} {delivery_id} {event}".encode()
    size = LENGTH.size + len(header) + len(body)
    return (LENGTH.pack(size), LENGTH.pack(len(header)), header, body)


def parse_request(frame: bytes) -> Request:
    """(request id, delivery id, event, payload) of a request frame."""
    (header_size,) = LENGTH.unpack_from(frame, 0)
    header_end = LENGTH.size + header_size
    request_id, delivery_id, event = frame[LENGTH.size : header_end].decode().split(" ")
    return int(request_id), delivery_id, event, frame[header_end:]


def answer_frame(answers: list[list[Any]]) -> bytes:
    """An answer frame: what became of each request of a batch."""
    data = json.dumps(answers).encode()
    return LENGTH.pack(len(data)) + data


def take_frames(buffer: bytearray) -> list[bytes]:
    """Take every complete frame off the front of buffer (a partial one stays)."""
    frames: list[bytes] = []
    start = 0
    while len(buffer) - start >= LENGTH.size:
        (size,) = LENGTH.unpack_from(buffer, start)
        end = start + LENGTH.size + size
        if len(buffer) < end:
            break
        frames.append(bytes(buffer[start + LENGTH.size : end]))
        start = end
    del buffer[:start]
    return frames
