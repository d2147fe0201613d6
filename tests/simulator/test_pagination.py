"""Lists are paginated the way GitHub does it: per_page up to 100, Link headers."""

from __future__ import annotations

import re

from bot.simulator import GitHubSimulator
from tests.simulator.helpers import http, pygithub


def test_comments_page_with_link_headers(github_sim: GitHubSimulator) -> None:
    github_sim.create_repo("acme/models")
    number = github_sim.create_issue("acme/models", "Drift", user="acme")
    for i in range(250):
        github_sim.comment("acme/models", number, f"comment {i}", user="alice")

    with http(github_sim) as client:
        first = client.get(f"/repos/acme/models/issues/{number}/comments?per_page=100")
        links = dict(
            (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["Link"])
        )
        assert len(first.json()) == 100
        assert set(links) == {"next", "last"}
        assert "page=2" in links["next"] and "page=3" in links["last"]
        last = client.get(links["last"])
        assert [c["body"] for c in last.json()][-1] == "comment 249"
        assert len(last.json()) == 50
        assert 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]
        default = client.get(f"/repos/acme/models/issues/{number}/comments")
        assert len(default.json()) == 30  # GitHub's default page size
        capped = client.get(f"/repos/acme/models/issues/{number}/comments?per_page=500")
    assert len(capped.json()) == 100  # GitHub caps per_page at 100, silently


def test_pygithub_follows_every_page(github_sim: GitHubSimulator) -> None:
    github_sim.create_repo("acme/models")
    number = github_sim.create_issue("acme/models", "Drift", user="acme")
    for i in range(120):
        github_sim.comment("acme/models", number, f"comment {i}", user="alice")
    gh = pygithub(github_sim)
    gh.per_page = 50
    before = github_sim.count("issues/list-comments")
    bodies = [c.body for c in gh.get_repo("acme/models").get_issue(number).get_comments()]
    assert bodies == [f"comment {i}" for i in range(120)]
    assert github_sim.count("issues/list-comments") - before == 3
