"""POST /webhook over real HTTP: what is accepted, refused, stored and run."""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.server.app import create_app
from bot.server.settings import GITHUB_MAX_PAYLOAD_BYTES
from bot.webhooks.router import Router
from bot.webhooks.signature import sign
from tests.server.live import (
    SECRET,
    deliver,
    job_state,
    live_server,
    queue_counts,
    settings_for,
    signed_headers,
    wait_for,
)

COMMENT = {
    "action": "created",
    "issue": {"number": 7, "title": "drift", "pull_request": None},
    "comment": {"id": 99, "body": "/status fraud", "user": {"login": "alice"}},
    "repository": {"id": 1, "name": "models", "full_name": "acme/models"},
    "installation": {"id": 4242},
    "sender": {"login": "alice", "type": "User"},
}


class Recorder:
    """Handlers that remember what they were called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, object]] = []
        self.lock = threading.Lock()
        self.router = Router()
        self.router.register("issue_comment", action="created")(self.handle)
        self.router.register("ping")(self.handle)

    def handle(self, event, ctx) -> None:
        with self.lock:
            self.calls.append((ctx.delivery_id, ctx.installation_id, event))


@pytest.fixture
def bot(tmp_path):
    recorder = Recorder()
    settings = settings_for(tmp_path)
    app = create_app(settings, router=recorder.router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, recorder, settings


def test_a_signed_delivery_is_stored_answered_202_and_handled_once(bot):
    client, recorder, settings = bot
    response = deliver(client, "issue_comment", COMMENT, delivery_id="d-1")
    assert response.status_code == 202
    assert response.json() == {"status": "queued", "delivery_id": "d-1"}
    # Stored before the answer: the row exists the moment the 202 is read.
    assert job_state(settings.database, "d-1") in {"queued", "running", "done"}
    wait_for(lambda: job_state(settings.database, "d-1") == "done", what="the job to finish")
    [(delivery_id, installation_id, event)] = recorder.calls
    assert (delivery_id, installation_id) == ("d-1", 4242)
    assert event.comment.body == "/status fraud"
    assert event.issue.number == 7


def test_the_answer_does_not_wait_for_the_handler(tmp_path):
    release = threading.Event()
    started = threading.Event()
    router = Router()

    @router.register("issue_comment")
    def slow(event, ctx) -> None:
        started.set()
        release.wait(30)

    settings = settings_for(tmp_path)
    app = create_app(settings, router=router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        response = deliver(client, "issue_comment", COMMENT, delivery_id="slow-1")
        assert response.status_code == 202
        assert started.wait(30)
        # The handler is still blocked, yet the delivery was answered.
        assert job_state(settings.database, "slow-1") == "running"
        release.set()
        wait_for(lambda: job_state(settings.database, "slow-1") == "done")


def test_githubs_published_test_vector_passes_the_signature_check(tmp_path):
    settings = settings_for(tmp_path, webhook_secret="It's a Secret to Everybody")
    app = create_app(settings, router=Router(), github_factory=lambda _id: None)
    vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "vector-1",
        "X-Hub-Signature-256": vector,
    }
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        good = client.post("/webhook", content=b"Hello, World!", headers=headers)
        bad = client.post("/webhook", content=b"Hello, World?", headers=headers)
    # The signature is accepted; the body then fails as JSON (400), not as a forgery (401).
    assert good.status_code == 400
    assert "JSON" in good.json()["error"]
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda h, b: h.pop("X-Hub-Signature-256"), id="no-signature"),
        pytest.param(lambda h, b: h.update({"X-Hub-Signature-256": sign(b, "wrong")}), id="wrong"),
        pytest.param(
            lambda h, b: h.update({"X-Hub-Signature-256": h["X-Hub-Signature-256"][7:]}),
            id="no-prefix",
        ),
        pytest.param(
            lambda h, b: (
                h.pop("X-Hub-Signature-256"),
                h.update({"X-Hub-Signature": "sha1=" + "0" * 40}),
            ),
            id="sha1-only",
        ),
        pytest.param(
            lambda h, b: h.update({"X-Hub-Signature-256": sign(b + b" ", SECRET)}),
            id="other-body",
        ),
    ],
)
def test_a_bad_signature_gets_401_and_nothing_is_recorded(bot, mangle):
    client, recorder, settings = bot
    body = json.dumps(COMMENT).encode()
    headers = signed_headers(body, "issue_comment", "forged-1")
    mangle(headers, body)
    response = client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 401
    assert job_state(settings.database, "forged-1") is None
    assert sum(queue_counts(settings.database).values()) == 0
    assert recorder.calls == []


def test_either_secret_is_accepted_while_rotating(tmp_path):
    recorder = Recorder()
    settings = settings_for(tmp_path, webhook_secret="old-secret, new-secret")
    app = create_app(settings, router=recorder.router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        old = deliver(client, "issue_comment", COMMENT, "rot-1", secret="old-secret")
        new = deliver(client, "issue_comment", COMMENT, "rot-2", secret="new-secret")
        other = deliver(client, "issue_comment", COMMENT, "rot-3", secret="older-secret")
    assert (old.status_code, new.status_code, other.status_code) == (202, 202, 401)


def test_one_delivery_redelivered_100_times_is_handled_once(bot):
    client, recorder, settings = bot
    body = json.dumps(COMMENT).encode()
    headers = signed_headers(body, "issue_comment", "again-1")

    def post(_: int) -> int:
        return client.post("/webhook", content=body, headers=headers).status_code

    first = post(0)
    with ThreadPoolExecutor(8) as pool:
        rest = list(pool.map(post, range(99)))
    assert first == 202
    assert rest == [200] * 99
    wait_for(lambda: job_state(settings.database, "again-1") == "done")
    # A second delivery, queued after the redeliveries, finishes after any rerun would have.
    assert deliver(client, "issue_comment", COMMENT, "after-1").status_code == 202
    wait_for(lambda: job_state(settings.database, "after-1") == "done")
    assert [c[0] for c in recorder.calls] == ["again-1", "after-1"]


def test_a_redelivery_sent_concurrently_with_the_original_is_stored_once(bot):
    client, _recorder, settings = bot
    body = json.dumps(COMMENT).encode()
    headers = signed_headers(body, "issue_comment", "race-1")
    with ThreadPoolExecutor(16) as pool:
        statuses = sorted(
            pool.map(
                lambda _: client.post("/webhook", content=body, headers=headers).status_code,
                range(32),
            )
        )
    assert statuses == [200] * 31 + [202]
    wait_for(lambda: job_state(settings.database, "race-1") == "done")
    assert queue_counts(settings.database)["done"] == 1


def test_ping_is_answered_with_pong(bot):
    client, _recorder, _settings = bot
    response = deliver(client, "ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert response.status_code == 202
    assert response.json()["pong"] is True


def test_events_and_actions_without_a_handler_are_acknowledged_and_ignored(bot):
    client, _recorder, settings = bot
    star = deliver(client, "star", {"action": "created", "starred_at": None}, "star-1")
    edited = deliver(client, "issue_comment", {**COMMENT, "action": "edited"}, "edit-1")
    assert star.status_code == 200
    assert star.json()["status"] == "ignored"
    assert edited.status_code == 200
    assert edited.json()["status"] == "ignored"
    assert sum(queue_counts(settings.database).values()) == 0


def test_the_bots_own_comments_are_ignored(bot):
    client, _recorder, settings = bot
    own = {**COMMENT, "sender": {"login": settings.bot_login, "type": "Bot"}}
    response = deliver(client, "issue_comment", own, "own-1")
    assert response.json()["status"] == "ignored"
    assert job_state(settings.database, "own-1") is None


@pytest.mark.parametrize(
    ("headers_update", "body", "status"),
    [
        ({"Content-Type": "application/x-www-form-urlencoded"}, None, 415),
        ({"Content-Type": "text/plain"}, None, 415),
        ({"X-GitHub-Delivery": ""}, None, 400),
        ({"X-GitHub-Delivery": "bad id with spaces"}, None, 400),
        ({"X-GitHub-Event": ""}, None, 400),
        ({"X-GitHub-Event": "Issue-Comment"}, None, 400),
        ({}, b"{not json", 400),
        ({}, b"[1, 2, 3]", 400),
        ({}, json.dumps({**COMMENT, "comment": {"id": "not-a-number"}}).encode(), 400),
        ({}, json.dumps({k: v for k, v in COMMENT.items() if k != "issue"}).encode(), 400),
    ],
)
def test_malformed_deliveries_get_4xx_and_nothing_is_stored(bot, headers_update, body, status):
    client, _recorder, settings = bot
    body = body if body is not None else json.dumps(COMMENT).encode()
    headers = signed_headers(body, "issue_comment", "bad-1")
    headers.update(headers_update)
    response = client.post("/webhook", content=body, headers=headers)
    assert response.status_code == status
    assert "error" in response.json()
    assert sum(queue_counts(settings.database).values()) == 0


def test_the_default_limit_is_githubs_25_mb_and_larger_gets_413(tmp_path):
    settings = settings_for(tmp_path)
    assert settings.max_body_bytes == GITHUB_MAX_PAYLOAD_BYTES == 25 * 1024 * 1024
    app = create_app(settings, router=Recorder().router, github_factory=lambda _id: None)
    body = b" " * (GITHUB_MAX_PAYLOAD_BYTES + 1)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        response = client.post(
            "/webhook", content=body, headers=signed_headers(body, "issue_comment", "big-1")
        )
    assert response.status_code == 413
    assert sum(queue_counts(settings.database).values()) == 0


def _raw_request(url: str, head: bytes, chunks, limit_reads: int = 1) -> tuple[bytes, int]:
    """Send head then chunks until the server answers; returns (answer, bytes of body sent)."""
    host, port = url.removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        for chunk in chunks:
            try:
                data = sock.recv(65536)
                if data:
                    sock.setblocking(True)
                    return data, sent
            except BlockingIOError:
                pass
            try:
                sock.setblocking(True)
                sock.settimeout(5)
                sock.sendall(chunk)
                sent += len(chunk)
                sock.setblocking(False)
            except OSError:
                break
        sock.setblocking(True)
        sock.settimeout(30)
        return sock.recv(65536), sent


def test_an_oversized_content_length_is_refused_before_any_body_is_sent(tmp_path):
    settings = settings_for(tmp_path)
    app = create_app(settings, router=Recorder().router, github_factory=lambda _id: None)
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-GitHub-Event: issue_comment\r\nX-GitHub-Delivery: huge-1\r\n"
        b"Content-Length: 1000000000\r\n\r\n"
    )
    with live_server(app) as url:
        answer, sent = _raw_request(url, head, [])
    assert answer.startswith(b"HTTP/1.1 413")
    assert sent == 0


def test_a_chunked_body_past_the_limit_is_refused_without_reading_it_all(tmp_path):
    limit = 1024 * 1024
    settings = settings_for(tmp_path, max_body_bytes=limit)
    app = create_app(settings, router=Recorder().router, github_factory=lambda _id: None)
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-GitHub-Event: issue_comment\r\nX-GitHub-Delivery: huge-2\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b" " * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    total_chunks = 64 * limit // len(piece)  # offer 64 times the limit
    with live_server(app) as url:
        answer, sent = _raw_request(url, head, [chunk] * total_chunks)
    assert answer.startswith(b"HTTP/1.1 413")
    # The server stopped reading long before the client could send everything.
    assert sent < total_chunks * len(chunk)
    assert sum(queue_counts(settings.database).values()) == 0


def test_a_body_of_exactly_the_limit_is_accepted(tmp_path):
    limit = 64 * 1024
    recorder = Recorder()
    settings = settings_for(tmp_path, max_body_bytes=limit)
    app = create_app(settings, router=recorder.router, github_factory=lambda _id: None)
    body = json.dumps(COMMENT).encode()
    body = body[:-1] + b" " * (limit - len(body)) + b"}"
    assert len(body) == limit
    with live_server(app) as url, httpx.Client(base_url=url) as client:
        assert deliver(client, "issue_comment", body, "edge-1").status_code == 202
        over = body[:-1] + b" }"
        assert deliver(client, "issue_comment", over, "edge-2").status_code == 413


def test_a_large_valid_delivery_is_accepted_and_handled_whole(bot):
    client, recorder, settings = bot
    huge = {**COMMENT, "comment": {**COMMENT["comment"], "body": "/status " + "x" * 3_000_000}}
    response = deliver(client, "issue_comment", huge, "large-1")
    assert response.status_code == 202
    wait_for(lambda: job_state(settings.database, "large-1") == "done")
    [(_, _, event)] = recorder.calls
    assert len(event.comment.body) == len(huge["comment"]["body"])
