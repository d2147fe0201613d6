"""Incidents end to end: Alertmanager's webhook through the real server, the simulator's issues
and the registry's commits (`bot.incidents`, `bot.server.alerts`)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import BOT, MLBOT_YML, REPO, World
from tests.server.live import queue_counts

TOKEN = "alert-token-new"
OLD_TOKEN = "alert-token-old"
FIXTURE = Path(__file__).parents[1] / "incidents" / "fixtures" / "alertmanager_v4.json"


def notification(**changes: Any) -> dict[str, Any]:
    doc = json.loads(FIXTURE.read_text())
    first = doc["alerts"][0]
    for key, value in changes.items():
        first[key] = value
    return doc


def post(world: World, doc: dict[str, Any], token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(f"{world.bot_url}/alerts", json=doc, headers=headers, timeout=30)


def _issues(world: World) -> list[Any]:
    """The incident issues as GitHub shows them (simulator state), oldest first."""
    found = [i for i in world.sim.issues(REPO) if "mlbot:incident" in i.labels and not i.pull]
    return sorted(found, key=lambda i: i.number)


def with_policy(world: World, hours: float) -> None:
    yml = MLBOT_YML.replace(
        "      metrics:\n        accuracy: {min: 0.9, max_regression: 0.02}\n",
        "      metrics:\n        accuracy: {min: 0.9, max_regression: 0.02}\n"
        "      incidents:\n        auto_rollback:\n          when: {severity: critical}\n"
        f"          live_for_at_most_hours: {hours}\n",
    )
    assert yml != MLBOT_YML
    world.sim.push(REPO, "main", {".github/mlbot.yml": yml}, message="policy", author="alice")


@pytest.fixture
def inc(make_world: Callable[..., World]) -> World:
    return make_world(alert_token=f"{OLD_TOKEN},{TOKEN}")


def test_bad_and_missing_tokens_are_401_and_store_nothing(inc: World) -> None:
    for token in (None, "wrong", TOKEN + "x", "Bearer"):
        answer = post(inc, notification(), token)
        assert answer.status_code == 401, token
    basic = httpx.post(
        f"{inc.bot_url}/alerts", json=notification(), headers={"Authorization": f"Basic {TOKEN}"}
    )
    assert basic.status_code == 401
    assert sum(queue_counts(inc.database).values()) == 0
    metrics = httpx.get(f"{inc.bot_url}/metrics").text
    assert 'mlbot_alerts_total{outcome="unauthorized"} 5.0' in metrics


def test_an_alert_opens_one_issue_repeats_and_unlabelled_do_not(inc: World) -> None:
    first = post(inc, notification(), OLD_TOKEN)  # the old token still works while rotating
    assert first.status_code == 202
    assert first.json() == {
        "status": "accepted",
        "queued": 1,
        "duplicate": 0,
        "unlabelled": 1,
        "ignored": 0,
    }
    inc.settle()
    # Alertmanager's repeat_interval: the same group and alert again.
    again = post(inc, notification())
    assert again.json()["duplicate"] == 1 and again.json()["queued"] == 0
    inc.settle()
    found = _issues(inc)
    assert len(found) == 1
    issue = found[0]
    assert issue.title == "Incident: cancer in production"
    assert set(issue.labels) == {"mlbot:incident", "model:cancer"}
    assert issue.user == BOT
    text = issue.body
    assert "CancerErrorRateHigh" in text and "1a30ba71cca2921f" in text
    assert "http://prometheus.example.org:9090/graph" in text
    assert "`v1.1.0` since" in text and "**Before it:** `v1.0.0`" in text
    assert "/rollback cancer" in text and "/freeze cancer production" in text
    assert "DiskAlmostFull" not in text  # unlabelled: never guessed onto a model
    metrics = httpx.get(f"{inc.bot_url}/metrics").text
    assert 'mlbot_alerts_total{outcome="unlabelled"} 2.0' in metrics
    assert inc.live()["production"] == "v1.1.0"  # no policy: a person decides


def test_a_second_alert_of_the_group_updates_the_same_issue(inc: World) -> None:
    post(inc, notification())
    doc = notification(fingerprint="2b41cb82ddb3a32a")
    doc["alerts"][0]["labels"]["alertname"] = "CancerLatencyHigh"
    post(inc, doc)
    inc.settle()
    found = _issues(inc)
    assert len(found) == 1
    assert "CancerLatencyHigh" in found[0].body and "CancerErrorRateHigh" in found[0].body


def test_resolved_suggests_closing_and_refired_reopens(inc: World) -> None:
    post(inc, notification())
    inc.settle()
    number = _issues(inc)[0].number
    post(inc, notification(status="resolved", endsAt="2026-12-02T03:30:00Z"))
    inc.settle()
    notes = inc.bot_comments(number)
    assert any("Every alert of this incident has resolved: close this issue" in n for n in notes)
    inc.sim.set_issue_state(REPO, number, "closed", user="alice")
    inc.settle()
    # Flapping: it fires again (a new startsAt), resolves, fires again.
    post(inc, notification(startsAt="2026-12-02T03:40:00Z"))
    post(
        inc,
        notification(
            startsAt="2026-12-02T03:40:00Z", status="resolved", endsAt="2026-12-02T03:41:00Z"
        ),
    )
    post(inc, notification(startsAt="2026-12-02T03:42:00Z"))
    inc.settle()
    found = _issues(inc)
    assert len(found) == 1 and found[0].state == "open"
    assert any("this incident is reopened" in n for n in inc.bot_comments(number))


def test_auto_rollback_inside_the_window(inc: World) -> None:
    with_policy(inc, 100000)
    post(inc, notification())
    inc.settle()
    assert inc.live()["production"] == "v1.0.0"
    number = _issues(inc)[0].number
    message = inc.registry_log()[0]
    assert "Requested-by: mlbot" in message
    assert "Alert: CancerErrorRateHigh 1a30ba71cca2921f" in message
    assert f"Refs: #{number}" in message
    assert any("Rolled back by policy" in n for n in inc.bot_comments(number))


def test_auto_rollback_outside_the_window_waits_for_a_person(inc: World) -> None:
    with_policy(inc, 24)  # v1.1.0 went live in January
    post(inc, notification())
    inc.settle()
    assert inc.live()["production"] == "v1.1.0"
    assert "no automatic rollback" in _issues(inc)[0].body


def test_a_warning_does_not_match_the_policy(inc: World) -> None:
    with_policy(inc, 100000)
    doc = notification()
    doc["alerts"][0]["labels"]["severity"] = "warning"
    post(inc, doc)
    inc.settle()
    assert inc.live()["production"] == "v1.1.0"


def test_concurrent_alerts_for_one_model_roll_back_once(inc: World) -> None:
    with_policy(inc, 100000)
    docs = []
    for n in range(6):
        doc = notification(fingerprint=f"{n:016x}")
        doc["groupKey"] = f"group-{n}"
        docs.append(doc)
    threads = [threading.Thread(target=post, args=(inc, d)) for d in docs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    inc.settle()
    assert len(_issues(inc)) == 1
    rollbacks = [m for m in inc.registry_log() if "Requested-by: mlbot" in m]
    assert len(rollbacks) == 1
    assert inc.live()["production"] == "v1.0.0"


def test_not_a_notification_is_400(inc: World) -> None:
    broken = copy.deepcopy(notification())
    broken["version"] = "3"
    assert post(inc, broken).status_code == 400
    assert sum(queue_counts(inc.database).values()) == 0


def test_a_signed_webhook_cannot_pose_as_an_alert(inc: World) -> None:
    """The webhook secret is GitHub's, not the monitoring's: /webhook never takes alert jobs."""
    import hashlib
    import hmac

    from tests.e2e.conftest import SECRET

    body = json.dumps(
        {"alert": notification()["alerts"][0], "groupKey": "g", "receiver": "x"}
    ).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    answer = httpx.post(
        f"{inc.bot_url}/webhook",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "mlbot_alert",
            "X-GitHub-Delivery": "forged-1",
            "X-Hub-Signature-256": signature,
        },
    )
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    assert sum(queue_counts(inc.database).values()) == 0


def test_an_open_incident_freezes_promote_and_allows_rollback(inc: World) -> None:
    post(inc, notification())
    inc.settle()
    number = _issues(inc)[0].number
    pr = inc.open_pr()
    inc.review(pr, user="alice")
    inc.comment(pr, "/promote")
    inc.settle()
    refused = inc.last_reply(pr)
    assert "Promoted" not in refused
    assert "freeze" in refused and f"#{number}" in refused, refused
    assert "/unfreeze cancer production" in refused
    assert inc.live()["production"] == "v1.1.0"
    # Rollbacks stay allowed, on the incident issue itself.
    inc.comment(number, "/rollback cancer because error rate doubled", user="bob")
    inc.settle()
    assert "Rolled back cancer production to v1.0.0" in inc.last_reply(number)
    assert inc.live()["production"] == "v1.0.0"


def test_unfreeze_by_a_code_owner_lets_promote_through(inc: World) -> None:
    post(inc, notification())
    inc.settle()
    number = _issues(inc)[0].number
    inc.comment(number, "/unfreeze cancer production", user="carol")  # not a code owner
    inc.settle()
    assert "only code owners" in inc.last_reply(number), inc.last_reply(number)
    assert "carol is not one" in inc.last_reply(number)
    inc.comment(number, "/unfreeze cancer production", user="alice")
    inc.settle()
    assert "Unfrozen" in inc.last_reply(number)
    pr = inc.open_pr()
    inc.review(pr, user="alice")
    inc.comment(pr, "/promote")
    inc.settle()
    assert "Promoted cancer v1.2.0 to production" in inc.last_reply(pr), inc.last_reply(pr)


def test_freeze_by_a_code_owner_opens_the_incident_and_closing_lifts_it(inc: World) -> None:
    other = inc.issue("Something is off")
    inc.comment(other, "/freeze cancer because the data feed is late @mallory #1", user="bob")
    inc.settle()
    assert "Frozen" in inc.last_reply(other)
    found = _issues(inc)
    assert len(found) == 1
    # The reason is a person's words: shown in a code span, where it mentions and links nobody.
    assert "`promotions frozen by bob: the data feed is late @mallory #1`" in (found[0].body or "")
    pr = inc.open_pr()
    inc.review(pr, user="alice")
    inc.comment(pr, "/promote")
    inc.settle()
    assert "Promoted" not in inc.last_reply(pr)
    inc.sim.set_issue_state(REPO, found[0].number, "closed", user="bob")
    inc.settle()
    inc.comment(pr, "/promote")
    inc.settle()
    assert "Promoted cancer v1.2.0 to production" in inc.last_reply(pr), inc.last_reply(pr)


def test_closing_posts_the_timeline_once(inc: World) -> None:
    with_policy(inc, 100000)
    post(inc, notification())
    inc.settle()
    number = _issues(inc)[0].number
    post(inc, notification(status="resolved", endsAt="2026-12-02T03:30:00Z"))
    inc.settle()
    inc.sim.set_issue_state(REPO, number, "closed", user="alice")
    inc.settle()
    timelines = [c for c in inc.bot_comments(number) if c.startswith("**Timeline**")]
    assert len(timelines) == 1
    text = timelines[0]
    order = [
        "alert CancerErrorRateHigh fired",
        "incident issue opened",
        "rolled production back from v1.1.0 to v1.0.0",
        "registry: roll back cancer production to v1.0.0",
        "alert CancerErrorRateHigh resolved",
        "issue closed by alice",
    ]
    positions = [text.find(what) for what in order]
    assert all(p >= 0 for p in positions), text
    assert positions[0] == min(positions) and positions[-1] == max(positions)
    assert "registry commit" in text and "Rolled back by policy" in "".join(
        inc.bot_comments(number)
    )


def test_an_alert_after_a_manual_rollback_does_not_bring_the_broken_version_back(
    inc: World,
) -> None:
    with_policy(inc, 100000)
    issue = inc.issue()
    inc.comment(issue, "/rollback cancer because error rate doubled", user="bob")
    inc.settle()
    assert inc.live()["production"] == "v1.0.0"
    post(inc, notification())
    inc.settle()
    assert inc.live()["production"] == "v1.0.0"  # not "rolled back" to v1.1.0 again
    assert "by a rollback already" in (_issues(inc)[0].body or "")
