"""The App's webhook deliveries, as `GET /app/hook/deliveries` and redelivery see them."""

from __future__ import annotations

import json
import socket

from bot.simulator import GitHubSimulator
from tests.simulator.helpers import app_http, http
from tests.simulator.receiver import WebhookReceiver

SECRET = "It's a Secret to Everybody"


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhook"  # nothing listens there any more


def _installed(sim: GitHubSimulator):
    sim.create_repo("acme/models")
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme")
    return app, inst


def test_every_delivery_is_recorded_as_github_lists_it(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        app, inst = _installed(sim)
        number = sim.create_issue("acme/models", "Drift", user="alice")
        sim.comment("acme/models", number, "/retrain fraud", user="alice")
        sim.wait_for_webhooks()
        with app_http(sim, app) as client:
            answer = client.get("/app/hook/deliveries")
            assert answer.status_code == 200
            listed = answer.json()
            one = client.get(f"/app/hook/deliveries/{listed[0]['id']}").json()
    sent = {r.headers["X-GitHub-Delivery"]: r for r in receiver.received}
    # Newest first: the comment, the issue, the installation.
    assert [(d["event"], d["action"]) for d in listed] == [
        ("issue_comment", "created"),
        ("issues", "opened"),
        ("installation", "created"),
    ]
    assert all(d["guid"] in sent and d["status"] == "OK" for d in listed)
    assert {d["status_code"] for d in listed} == {202}
    assert {d["installation_id"] for d in listed} == {inst.id}
    assert listed[0]["repository_id"] == sim.repo("acme/models").id
    assert listed[0]["redelivery"] is False and "request" not in listed[0]
    assert one["request"]["headers"]["X-GitHub-Event"] == "issue_comment"
    assert one["request"]["payload"]["comment"]["body"] == "/retrain fraud"
    assert one["request"]["payload"] == json.loads(sent[one["guid"]].body)
    assert one["url"] == receiver.url


def test_a_receiver_that_is_down_gets_failed_deliveries_that_can_be_redelivered(
    make_github_sim,
) -> None:
    sim: GitHubSimulator = make_github_sim(webhook_url=_closed_port_url(), webhook_secret=SECRET)
    app, _ = _installed(sim)
    sim.create_issue("acme/models", "Drift", user="alice")
    sim.wait_for_webhooks()
    with app_http(sim, app) as client:
        failed = client.get("/app/hook/deliveries", params={"status": "failure"}).json()
        assert client.get("/app/hook/deliveries", params={"status": "success"}).json() == []
        assert [d["event"] for d in failed] == ["issues", "installation"]
        assert {(d["status"], d["status_code"]) for d in failed} == {("failed to connect", 502)}
        with WebhookReceiver() as receiver:  # the bot is back, at a new address
            sim.set_webhook(receiver.url, SECRET)
            for d in failed:
                redo = client.post(f"/app/hook/deliveries/{d['id']}/attempts")
                assert redo.status_code == 202
            sim.wait_for_webhooks()
        latest = client.get("/app/hook/deliveries").json()
    assert sorted(r.headers["X-GitHub-Delivery"] for r in receiver.received) == sorted(
        d["guid"] for d in failed
    )
    again = [d for d in latest if d["redelivery"]]
    assert len(again) == 2 and {d["status"] for d in again} == {"OK"}
    assert {d["guid"] for d in again} == {d["guid"] for d in failed}
    assert len(latest) == 4  # a redelivery is an attempt of its own; the failures stay listed


def test_deliveries_are_paged_by_cursor_with_a_link_header(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        app, _ = _installed(sim)
        for i in range(6):
            sim.create_issue("acme/models", f"issue {i}", user="alice")
        sim.wait_for_webhooks()
        seen: list[int] = []
        pages = 0
        with app_http(sim, app) as client:
            url: str | None = "/app/hook/deliveries?per_page=3"
            while url:
                answer = client.get(url)
                pages += 1
                seen += [d["id"] for d in answer.json()]
                link = answer.headers.get("Link", "")
                nxt = [p for p in link.split(", ") if p.endswith('rel="next"')]
                url = nxt[0][1 : nxt[0].index(">")] if nxt else None
                if url:
                    assert "cursor=" in url and "per_page=3" in url
            bad = client.get("/app/hook/deliveries", params={"cursor": "nonsense"})
    assert pages == 3  # 7 deliveries: the installation and six issues
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 7
    assert bad.status_code == 422


def test_deliveries_answer_only_the_app_itself(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        app, inst = _installed(sim)
        other = sim.create_app("other")
        sim.create_issue("acme/models", "Drift", user="alice")
        sim.wait_for_webhooks()
        token = sim.issue_installation_token(inst).value
        with http(sim) as client:
            as_user = client.get("/app/hook/deliveries")
            as_installation = client.get(
                "/app/hook/deliveries", headers={"Authorization": f"token {token}"}
            )
        with app_http(sim, other) as client:
            assert client.get("/app/hook/deliveries").json() == []  # none are its own
            mine = app_http(sim, app).get("/app/hook/deliveries").json()
            assert client.get(f"/app/hook/deliveries/{mine[0]['id']}").status_code == 404
            assert client.post(f"/app/hook/deliveries/{mine[0]['id']}/attempts").status_code == 404
    assert as_user.status_code == 401 and as_installation.status_code == 401


def test_an_attempt_is_listed_once_it_has_finished_not_while_the_receiver_answers(
    make_github_sim,
) -> None:
    """GitHub records an attempt with its answer and duration: one still on its way is not
    in the log yet (listing it as failed made bots redeliver what was being delivered)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    release = threading.Event()
    arrived = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrived.set()
            release.wait(10)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sim: GitHubSimulator = make_github_sim(webhook_secret=SECRET)
        app, _ = _installed(sim)
        sim.set_webhook(f"http://127.0.0.1:{server.server_address[1]}/webhook", SECRET)
        sim.create_issue("acme/models", "Drift", user="alice")
        assert arrived.wait(10)
        with app_http(sim, app) as client:
            while_answering = client.get("/app/hook/deliveries").json()
            release.set()
            sim.wait_for_webhooks()
            after = client.get("/app/hook/deliveries").json()
    finally:
        release.set()
        server.shutdown()
        server.server_close()
    assert while_answering == []
    assert [(d["event"], d["status"], d["status_code"]) for d in after] == [("issues", "OK", 202)]
