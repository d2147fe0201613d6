"""Signed webhook deliveries, sent from a background thread in the order they happen.

Every attempt is recorded as GitHub records it for `GET /app/hook/deliveries`: its own
id, the event's GUID (shared by redeliveries), when, how long, and what the receiver
answered, or that it could not be reached. As on GitHub, an attempt is in the log once
it has finished (answered, refused, or timed out): one still on its way has no status
or duration yet, and listing it as failed would have a bot redeliver it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What GitHub records for a receiver it could not reach (its documented example).
UNREACHABLE_STATUS = "failed to connect"
UNREACHABLE_CODE = 502


@dataclass
class Delivery:
    id: str  # the GUID, X-GitHub-Delivery: the same for a redelivery
    event: str
    action: str | None
    payload: dict[str, Any]
    body: bytes = b""
    number: int = 0  # the attempt's own id, `delivery_id` in the deliveries API
    redelivery: bool = False
    status: int | None = None  # the receiver's HTTP status
    error: str | None = None  # why the receiver could not be reached
    delivered_at: float | None = None
    duration: float = 0.0
    url: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def installation_id(self) -> int | None:
        inst = self.payload.get("installation")
        return inst.get("id") if isinstance(inst, dict) else None

    @property
    def repository_id(self) -> int | None:
        repo = self.payload.get("repository")
        return repo.get("id") if isinstance(repo, dict) else None

    @property
    def attempted(self) -> bool:
        return self.delivered_at is not None

    @property
    def finished(self) -> bool:
        """Attempted and over: what GitHub's delivery log shows."""
        return self.attempted and self.done.is_set()

    @property
    def status_code(self) -> int:
        return self.status if self.status is not None else UNREACHABLE_CODE

    @property
    def status_text(self) -> str:
        """GitHub's `status`: "OK" for a 2xx answer, else what went wrong."""
        if self.status is None:
            return UNREACHABLE_STATUS
        if 200 <= self.status < 300:
            return "OK"
        return f"Invalid HTTP Response: {self.status}"

    @property
    def failed(self) -> bool:
        return self.status_text != "OK"


def sign(secret: str, body: bytes) -> tuple[str, str]:
    """(X-Hub-Signature-256, X-Hub-Signature) as GitHub computes them."""
    sha256 = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return f"sha256={sha256}", f"sha1={sha1}"


class WebhookSender:
    def __init__(
        self,
        url: str | None,
        secret: str | None,
        hook_id: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.hook_id = hook_id
        self.clock = clock
        self.deliveries: list[Delivery] = []
        self._numbers = itertools.count(1)
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sim-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread:
            self._queue.put(None)
            self._thread.join(timeout=10)

    def enqueue(self, event: str, action: str | None, payload: dict[str, Any]) -> Delivery:
        delivery = Delivery(str(uuid.uuid4()), event, action, payload)
        delivery.body = json.dumps(payload, separators=(",", ":")).encode()
        self._record_and_send(delivery)
        return delivery

    def redeliver(self, delivery_id: str | int) -> Delivery:
        """Send an earlier delivery again with the same X-GitHub-Delivery (as GitHub's UI does).

        `delivery_id` is the GUID or an attempt's number (the deliveries API's id).
        """
        original = self.find(delivery_id)
        if original is None:
            raise KeyError(f"no delivery {delivery_id}")
        again = Delivery(original.id, original.event, original.action, original.payload)
        again.body = original.body
        again.redelivery = True
        self._record_and_send(again)
        return again

    def find(self, delivery_id: str | int) -> Delivery | None:
        with self._lock:
            for d in self.deliveries:
                if (isinstance(delivery_id, int) and d.number == delivery_id) or (
                    isinstance(delivery_id, str) and d.id == delivery_id
                ):
                    return d
        return None

    def attempts(self) -> list[Delivery]:
        """Every attempt finished so far, as GitHub's log lists them (deliveries with no
        receiver configured are not attempts; one still being answered is not listed yet)."""
        with self._lock:
            return [d for d in self.deliveries if d.finished]

    def wait(self, timeout: float = 30.0) -> None:
        """Block until every delivery queued so far was sent."""
        with self._lock:
            pending = list(self.deliveries)
        for delivery in pending:
            if not delivery.done.wait(timeout):
                raise TimeoutError(f"webhook {delivery.event} {delivery.id} not delivered")

    def _record_and_send(self, delivery: Delivery) -> None:
        with self._lock:
            delivery.number = next(self._numbers)
            self.deliveries.append(delivery)
        if self.url is None:
            delivery.done.set()
        else:
            self._queue.put(delivery)

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None:
                return
            try:
                self._send(delivery)
            except Exception as exc:  # a bad delivery must not stop the sender
                delivery.error = str(exc)
            finally:
                delivery.done.set()

    def _send(self, delivery: Delivery) -> None:
        url = self.url
        if url is None:
            return
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/simulator",
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Delivery": delivery.id,
            "X-GitHub-Hook-ID": str(self.hook_id),
        }
        installation = delivery.payload.get("installation")
        if installation:
            headers["X-GitHub-Hook-Installation-Target-Type"] = "integration"
            headers["X-GitHub-Hook-Installation-Target-ID"] = str(installation["id"])
        if self.secret:
            headers["X-Hub-Signature-256"], headers["X-Hub-Signature"] = sign(
                self.secret, delivery.body
            )
        delivery.url = url
        delivery.request_headers = dict(headers)
        delivery.delivered_at = self.clock()
        started = time.monotonic()
        try:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"webhook URL must be http(s): {url!r}")
            request = urllib.request.Request(  # noqa: S310 - scheme checked above
                url, data=delivery.body, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL from the test
                    delivery.status = response.status
                    delivery.response_headers = dict(response.headers.items())
                    delivery.response_body = response.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as exc:
                delivery.status = exc.code
                delivery.response_headers = dict(exc.headers.items())
                delivery.response_body = exc.read().decode("utf-8", "replace")
        except (OSError, ValueError) as exc:
            delivery.error = str(exc)
        finally:
            delivery.duration = time.monotonic() - started
