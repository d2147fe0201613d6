"""Real servers on loopback for the bot's tests: the bot itself, and a fake GitHub.

Nothing here is mocked: the bot runs under uvicorn on a real socket and is
called with httpx; the "GitHub" its handlers call is a real HTTP server that
records what it receives and answers from a script.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.server.settings import Settings
from bot.server.store import make_store
from bot.server.store.jobs import JobStore
from bot.server.store.location import SqliteLocation, parse
from bot.webhooks.signature import sign

SECRET = "test-webhook-secret"


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test app: its own database, fast retries, no environment."""
    values: dict[str, Any] = {
        "webhook_secret": SECRET,
        "database": tmp_path / "queue.sqlite3",
        "workers": 2,
        "max_attempts": 3,
        "retry_base_seconds": 0.02,
        "retry_max_seconds": 0.2,
        "github_token": "ghs_" + "t" * 36,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def bound_socket() -> socket.socket:
    """A loopback socket with a port, not yet listening: connecting to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_server(app: Any, sock: socket.socket | None = None) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread (on `sock`, if given); yields its base URL."""
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    """A server in a subprocess of its own, as in production; `{port}` in argv is filled in."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        capture: bool = False,
        start_seconds: float = 30.0,
        output: Path | None = None,
    ):
        """`capture`: keep what it writes for `stop()`; `output`: write it to this file."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        out: Any = subprocess.PIPE if capture else subprocess.DEVNULL
        if output is not None:
            out = output.open("ab")
        self.proc = subprocess.Popen(
            [a.replace("{port}", str(self.port)) for a in argv],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            text=True,
        )
        if output is not None:
            out.close()  # the child has its own copy
        try:
            wait_for(self._up, timeout=start_seconds, what="the server to start")
        except BaseException:
            self.proc.kill()
            raise

    def _up(self) -> bool:
        assert self.proc.poll() is None, "the server exited"
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> tuple[str, str]:
        """Stop gracefully (SIGTERM); returns what it wrote, when captured."""
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=30)
        return out or "", err or ""


def signed_headers(
    body: bytes,
    event: str,
    delivery_id: str | None = None,
    secret: str = SECRET,
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "User-Agent": "GitHub-Hookshot/test",
    }


def deliver(
    client: httpx.Client,
    event: str,
    payload: dict[str, Any] | bytes,
    delivery_id: str | None = None,
    secret: str = SECRET,
) -> httpx.Response:
    """POST a delivery signed as GitHub would sign it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = signed_headers(body, event, delivery_id, secret)
    return client.post("/webhook", content=body, headers=headers)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll until condition() is truthy; fail the test if it never becomes so."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def job_state(database: Path | str, delivery_id: str) -> str | None:
    with _store(database) as store:
        job = store.get(delivery_id)
    return job.state if job else None


def queue_counts(database: Path | str) -> dict[str, int]:
    with _store(database) as store:
        return store.counts()


_SHARED: dict[str, JobStore] = {}


@contextmanager
def _store(database: Path | str) -> Iterator[JobStore]:
    """A store to look at: SQLite opened each time; PostgreSQL once per URL (a pool each)."""
    location = parse(database)
    if isinstance(location, SqliteLocation):
        store = make_store(location)
        store.open()
        try:
            yield store
        finally:
            store.close()
        return
    if location.url not in _SHARED:
        _SHARED[location.url] = make_store(location, connections=2)
        _SHARED[location.url].open()
        atexit.register(_SHARED[location.url].close)
    yield _SHARED[location.url]


# -- a fake GitHub on loopback ---------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeGitHub:
    """Answers each request with the next scripted (status, headers, body); 200 {} after."""

    script: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, recorded: Recorded) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.requests.append(recorded)
            return self.script.pop(0) if self.script else (200, {}, {})


@contextmanager
def fake_github(script: list[tuple[int, dict[str, str], dict[str, Any]]] | None = None):
    state = FakeGitHub(script=list(script or []))

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = state.answer(
                Recorded(self.command, self.path, dict(self.headers.items()), body)
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class CountingClient(httpx.Client):
    """An httpx client for one installation that counts its requests, as bot.github's does."""

    def __init__(self, base_url: str, installation_id: int | None) -> None:
        super().__init__(
            base_url=base_url,
            headers={"X-Installation": str(installation_id)},
            event_hooks={"request": [self._count]},
            timeout=10,
        )
        self.installation_id = installation_id
        self.request_count = 0

    def _count(self, request: httpx.Request) -> None:
        self.request_count += 1


def factory_for(github: FakeGitHub) -> Callable[[int | None], CountingClient]:
    def build(installation_id: int | None) -> CountingClient:
        return CountingClient(github.url, installation_id)

    return build
