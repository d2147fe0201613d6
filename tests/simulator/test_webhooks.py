"""What happens in the simulator is announced as signed webhooks, in order."""

from __future__ import annotations

import hashlib
import hmac
import json

from bot.simulator import GitHubSimulator
from tests.simulator.receiver import WebhookReceiver

SECRET = "It's a Secret to Everybody"


def test_events_are_signed_and_delivered(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models")
        app = sim.create_app("mlbot")
        inst = sim.install(app, "acme")
        number = sim.create_issue(
            "acme/models", "Drift in fraud", user="alice", labels=["mlbot:drift"]
        )
        sim.comment("acme/models", number, "/retrain fraud", user="alice")
        head = sim.push("acme/models", "feature", {"model.py": "print(1)\n"}, author="bob")
        pr = sim.open_pr("acme/models", "feature", user="bob", title="Better model")
        sim.submit_review("acme/models", pr, user="alice")
        run = sim.create_workflow_run(
            "acme/models", name="model", head_sha=head, head_branch="feature", pull_numbers=[pr]
        )
        sim.merge_pr("acme/models", pr, user="alice")
        sim.wait_for_webhooks()

    events = [
        (r.headers["X-GitHub-Event"], json.loads(r.body).get("action")) for r in receiver.received
    ]
    assert events == [
        ("installation", "created"),
        ("issues", "opened"),
        ("issues", "labeled"),
        ("issue_comment", "created"),
        ("push", None),
        ("pull_request", "opened"),
        ("pull_request_review", "submitted"),
        ("workflow_run", "in_progress"),
        ("workflow_run", "completed"),
        ("push", None),
        ("pull_request", "closed"),
    ]
    for r in receiver.received:
        expected = hmac.new(SECRET.encode(), r.body, hashlib.sha256).hexdigest()
        assert r.headers["X-Hub-Signature-256"] == f"sha256={expected}"
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["X-GitHub-Hook-Installation-Target-ID"] == str(inst.id)
        payload = json.loads(r.body)
        assert payload["installation"]["id"] == inst.id
        if r.headers["X-GitHub-Event"] != "installation":  # account-level, no repository
            assert payload["repository"]["full_name"] == "acme/models"
    assert len({r.headers["X-GitHub-Delivery"] for r in receiver.received}) == len(events)
    comment = json.loads(receiver.received[3].body)
    assert comment["comment"]["body"] == "/retrain fraud"
    assert comment["comment"]["user"]["login"] == "alice"
    assert comment["issue"]["number"] == number
    started = json.loads(receiver.received[7].body)["workflow_run"]
    assert started["id"] == run and started["status"] == "in_progress"
    completed = json.loads(receiver.received[8].body)["workflow_run"]
    assert completed["id"] == run and completed["conclusion"] == "success"
    assert completed["pull_requests"][0]["number"] == pr
    closed = json.loads(receiver.received[-1].body)["pull_request"]
    assert closed["merged"] is True
    assert all(d.status == 202 for d in sim.webhooks.deliveries)
    # Every payload was checked against the webhook schemas of GitHub's description.
    assert sim.validation_failures == []


def test_a_redelivery_keeps_its_delivery_id(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models")
        sim.create_issue("acme/models", "Drift", user="alice")
        sim.wait_for_webhooks()
        sim.webhooks.redeliver(sim.webhooks.deliveries[0].id)
        sim.wait_for_webhooks()
    first, again = receiver.received
    assert first.headers["X-GitHub-Delivery"] == again.headers["X-GitHub-Delivery"]
    assert first.body == again.body


def test_an_edited_comment_is_announced_with_its_previous_body(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models")
        number = sim.create_issue("acme/models", "Drift", user="alice")
        comment = sim.comment("acme/models", number, "/promote fraud", user="alice")
        sim.edit_comment(comment, "/promote fraud v2", user="alice")
        sim.wait_for_webhooks()
    edited = json.loads(receiver.received[-1].body)
    assert receiver.received[-1].headers["X-GitHub-Event"] == "issue_comment"
    assert edited["action"] == "edited"
    assert edited["changes"] == {"body": {"from": "/promote fraud"}}


def test_an_unreachable_receiver_is_recorded_not_raised(make_github_sim) -> None:
    sim: GitHubSimulator = make_github_sim(
        webhook_url="http://127.0.0.1:9/webhook", webhook_secret=SECRET
    )
    sim.create_repo("acme/models")
    sim.create_issue("acme/models", "Drift", user="alice")
    [delivery] = sim.wait_for_webhooks()
    assert delivery.status is None and delivery.error


def test_installation_and_ping_are_announced(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_org("acme")
        sim.create_repo("acme/models")
        app = sim.create_app("mlbot")
        sim.ping(app)
        inst = sim.install(app, "acme")
        sim.wait_for_webhooks()
    ping, installed = (json.loads(r.body) for r in receiver.received)
    assert receiver.received[0].headers["X-GitHub-Event"] == "ping"
    assert ping["hook"]["app_id"] == app.id
    assert installed["action"] == "created"
    assert installed["installation"]["id"] == inst.id
    assert installed["installation"]["app_slug"] == "mlbot"
    assert [r["full_name"] for r in installed["repositories"]] == ["acme/models"]
    assert sim.validation_failures == []


def test_signatures_match_githubs_published_test_vector() -> None:
    from bot.simulator.delivery import sign

    sha256, _sha1 = sign(SECRET, b"Hello, World!")
    assert sha256 == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_a_push_to_a_pr_branch_synchronizes_the_pr(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models")
        first = sim.push("acme/models", "better", {"model.py": "v1\n"}, author="bob")
        number = sim.open_pr("acme/models", "better", user="bob")
        second = sim.push("acme/models", "better", {"model.py": "v2\n"}, author="bob")
        sim.wait_for_webhooks()
    sync = json.loads(receiver.received[-1].body)
    assert (sync["action"], sync["number"]) == ("synchronize", number)
    assert (sync["before"], sync["after"]) == (first, second)
    assert sync["pull_request"]["head"]["sha"] == second
