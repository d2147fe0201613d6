"""Conditional requests and the rate limit, as GitHub answers them."""

from __future__ import annotations

import email.utils

import pytest

from bot.simulator import GitHubSimulator
from tests.simulator.helpers import http


@pytest.fixture
def sim(github_sim: GitHubSimulator) -> GitHubSimulator:
    github_sim.create_repo("acme/models", {".github/CODEOWNERS": "* @alice\n"})
    github_sim.add_collaborator("acme/models", "alice", "write")
    return github_sim


def _remaining(answer) -> int:
    return int(answer.headers["X-RateLimit-Remaining"])


def test_a_matching_etag_gets_304_without_a_body_and_costs_nothing(sim) -> None:
    path = "/repos/acme/models/contents/.github/CODEOWNERS"
    with http(sim, "alice") as client:
        first = client.get(path)
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        after = client.get("/repos/acme/models")  # the next counted request
    assert first.status_code == 200 and etag.startswith('W/"')
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert _remaining(again) == _remaining(first)  # the 304 spent nothing
    assert _remaining(after) == _remaining(first) - 1
    counts = sim.request_counts("alice")
    assert (counts.sent, counts.counted, counts.not_modified) == (3, 2, 1)
    assert sim.validation_failures == []


def test_a_changed_resource_is_sent_again_with_a_new_etag(sim) -> None:
    path = "/repos/acme/models/contents/.github/CODEOWNERS"
    with http(sim, "alice") as client:
        etag = client.get(path).headers["ETag"]
        sim.push("acme/models", "main", {".github/CODEOWNERS": "* @mallory\n"}, author="alice")
        changed = client.get(path, headers={"If-None-Match": etag})
        listed = client.get("/repos/acme/models/issues", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert listed.status_code == 200  # another resource's tag never matches


def test_if_modified_since_is_answered_from_last_modified(sim) -> None:
    path = "/repos/acme/models/contents/.github/CODEOWNERS"
    with http(sim, "alice") as client:
        first = client.get(path)
        modified = first.headers["Last-Modified"]
        same = client.get(path, headers={"If-Modified-Since": modified})
        when = email.utils.parsedate_to_datetime(modified).timestamp()
        older = email.utils.formatdate(when - 60, usegmt=True)
        stale = client.get(path, headers={"If-Modified-Since": older})
    assert same.status_code == 304 and same.content == b""
    assert stale.status_code == 200 and stale.json()["path"] == ".github/CODEOWNERS"


def test_lists_are_tagged_and_change_when_an_item_is_added(sim) -> None:
    number = sim.create_issue("acme/models", "Drift", user="alice")
    path = f"/repos/acme/models/issues/{number}/comments"
    with http(sim, "alice") as client:
        etag = client.get(path).headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        created = client.post(path, json={"body": "hello"})
        assert "ETag" in created.headers  # every JSON answer carries one, as on GitHub
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_a_spent_rate_limit_is_refused_until_the_window_resets(sim) -> None:
    sim.rate_limit_remaining = 2
    with http(sim, "alice") as client:
        assert client.get("/repos/acme/models").status_code == 200
        last = client.get("/repos/acme/models")
        refused = client.get("/repos/acme/models")
        free = client.get("/rate_limit")
        sim.advance(3601)
        again = client.get("/repos/acme/models")
    assert last.status_code == 200 and _remaining(last) == 0
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("API rate limit exceeded")
    assert free.status_code == 200 and free.json()["resources"]["core"]["remaining"] == 0
    assert again.status_code == 200 and _remaining(again) == sim.rate_limit_limit - 1
    assert int(last.headers["X-RateLimit-Used"]) == sim.rate_limit_limit


@pytest.mark.parametrize("path", ["/users/alice", "/orgs/octo", "/repos/acme/models"])
def test_an_unchanged_resource_keeps_its_etag_as_time_passes(sim, path) -> None:
    sim.create_org("octo")
    with http(sim, "alice") as client:
        first = client.get(path)
        sim.advance(120)
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert first.status_code == 200 and again.status_code == 304
