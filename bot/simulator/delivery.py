"""Signed webhook deliveries, sent from a background thread in the order they happen."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Delivery:
    id: str
    event: str
    action: str | None
    payload: dict[str, Any]
    body: bytes = b""
    status: int | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


def sign(secret: str, body: bytes) -> tuple[str, str]:
    """(X-Hub-Signature-256, X-Hub-Signature) as GitHub computes them."""
    sha256 = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return f"sha256={sha256}", f"sha1={sha1}"


class WebhookSender:
    def __init__(self, url: str | None, secret: str | None, hook_id: int = 1) -> None:
        self.url = url
        self.secret = secret
        self.hook_id = hook_id
        self.deliveries: list[Delivery] = []
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
        with self._lock:
            self.deliveries.append(delivery)
        if self.url is None:
            delivery.done.set()
        else:
            self._queue.put(delivery)
        return delivery

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send an earlier delivery again with the same X-GitHub-Delivery (as GitHub's UI does)."""
        original = next(d for d in self.deliveries if d.id == delivery_id)
        again = Delivery(original.id, original.event, original.action, original.payload)
        again.body = original.body
        with self._lock:
            self.deliveries.append(again)
        self._queue.put(again)
        return again

    def wait(self, timeout: float = 30.0) -> None:
        """Block until every delivery queued so far was sent."""
        with self._lock:
            pending = list(self.deliveries)
        for delivery in pending:
            if not delivery.done.wait(timeout):
                raise TimeoutError(f"webhook {delivery.event} {delivery.id} not delivered")

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
        assert self.url is not None
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
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must be http(s): {self.url!r}")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            self.url, data=delivery.body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback URL from the test
                delivery.status = response.status
        except urllib.error.HTTPError as exc:
            delivery.status = exc.code
        except OSError as exc:
            delivery.error = str(exc)
