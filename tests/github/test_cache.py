"""Conditional requests through the real simulator: a 304 costs nothing and serves the same data."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from github import GithubException

from bot.github.cache import ConditionalCache
from bot.github.client import GitHubClientFactory
from bot.simulator import GitHubSimulator

CONTENTS = "/repos/acme/models/contents/.github/CODEOWNERS"


@pytest.fixture
def sim(make_github_sim: Callable[..., GitHubSimulator]) -> GitHubSimulator:
    sim = make_github_sim()
    sim.create_repo("acme/models", {".github/CODEOWNERS": "registry/ @alice\n"}, private=True)
    sim.add_collaborator("acme/models", "alice", "write")
    sim.add_collaborator("acme/models", "mlbot-ci", "read")
    return sim


def token_factory(sim: GitHubSimulator, **kwargs) -> GitHubClientFactory:
    return GitHubClientFactory(sim.url, token=sim.add_token("mlbot-ci"), **kwargs)


def text(answer: dict) -> str:
    return base64.b64decode(answer["content"]).decode()


def test_a_second_read_of_an_unchanged_file_is_a_304_that_costs_nothing(
    sim: GitHubSimulator,
) -> None:
    factory = token_factory(sim)
    first = factory.for_installation(None).rest("GET", CONTENTS)
    before = sim.request_counts()
    # Another job, another client: the factory's cache carries over.
    second = factory.for_installation(None).rest("GET", CONTENTS)
    after = sim.request_counts()
    assert second == first and text(second) == "registry/ @alice\n"
    assert sim.requests[-1].status == 304
    assert (after.sent - before.sent, after.counted - before.counted) == (1, 0)
    assert after.not_modified - before.not_modified == 1


def test_a_paged_list_is_revalidated_page_by_page(sim: GitHubSimulator) -> None:
    issue = sim.create_issue("acme/models", "incident", user="alice")
    for n in range(3):
        sim.comment("acme/models", issue, f"comment {n}", user="alice")
    factory = token_factory(sim)
    path = f"/repos/acme/models/issues/{issue}/comments"
    first = [c["body"] for c in factory.for_installation(None).pages(path, per_page=2)]
    before = sim.request_counts()
    second = [c["body"] for c in factory.for_installation(None).pages(path, per_page=2)]
    after = sim.request_counts()
    assert first == second == ["comment 0", "comment 1", "comment 2"]
    assert (after.sent - before.sent, after.counted - before.counted) == (2, 0)


def test_a_changed_file_is_read_again(sim: GitHubSimulator) -> None:
    factory = token_factory(sim)
    factory.for_installation(None).rest("GET", CONTENTS)
    sim.push("acme/models", "main", {".github/CODEOWNERS": "registry/ @mallory\n"})
    before = sim.request_counts()
    fresh = factory.for_installation(None).rest("GET", CONTENTS)
    after = sim.request_counts()
    assert text(fresh) == "registry/ @mallory\n"
    assert sim.requests[-1].status == 200
    assert after.counted - before.counted == 1


def test_a_review_list_that_grew_is_read_again(sim: GitHubSimulator) -> None:
    sim.push("acme/models", "feature", {"model.txt": "v2\n"})
    pr = sim.open_pr("acme/models", "feature", user="alice")
    sim.add_collaborator("acme/models", "bob", "write")
    factory = token_factory(sim)
    path = f"/repos/acme/models/pulls/{pr}/reviews"
    assert list(factory.for_installation(None).pages(path)) == []
    sim.submit_review("acme/models", pr, user="bob")
    reviews = list(factory.for_installation(None).pages(path))
    assert [(r["user"]["login"], r["state"]) for r in reviews] == [("bob", "APPROVED")]


def test_one_installations_answers_are_never_served_to_another(sim: GitHubSimulator) -> None:
    app = sim.create_app("mlbot")
    mine = sim.install(app, "acme")
    sim.create_repo("umbrella/models", {"README.md": "# umbrella\n"})
    theirs = sim.install(app, "umbrella")
    cache = ConditionalCache()
    factory = GitHubClientFactory(
        sim.url, app_id=app.id, private_key=app.private_key_pem, cache=cache
    )
    assert text(factory.for_installation(mine.id).rest("GET", CONTENTS)) == "registry/ @alice\n"
    # The attack: the other installation asks for the same URL. Its token cannot read the
    # private repository, so it must get GitHub's 404, not the cached body.
    with pytest.raises(GithubException) as refused:
        factory.for_installation(theirs.id).rest("GET", CONTENTS)
    assert refused.value.status == 404
    # And where both may read, each pays for its own first read (no validators borrowed).
    factory.for_installation(mine.id).rest("GET", "/repos/umbrella/models")
    before = sim.request_counts()
    factory.for_installation(theirs.id).rest("GET", "/repos/umbrella/models")
    assert sim.requests[-1].status == 200
    assert sim.request_counts().counted - before.counted == 1


def test_the_cache_stays_within_its_bounds(sim: GitHubSimulator) -> None:
    sim.push("acme/models", "main", {f"f{n}.txt": "x" * 1000 for n in range(6)})
    cache = ConditionalCache(max_entries=100, max_bytes=6000)
    factory = token_factory(sim, cache=cache)
    for n in range(6):
        factory.for_installation(None).rest("GET", f"/repos/acme/models/contents/f{n}.txt")
    assert cache.size_bytes <= 6000 and 0 < len(cache) < 6
    # The newest answer is kept, the oldest dropped: a re-read of f0 is a full, counted 200.
    factory.for_installation(None).rest("GET", "/repos/acme/models/contents/f5.txt")
    assert sim.requests[-1].status == 304
    factory.for_installation(None).rest("GET", "/repos/acme/models/contents/f0.txt")
    assert sim.requests[-1].status == 200


def test_turned_off_every_read_counts(sim: GitHubSimulator) -> None:
    factory = token_factory(sim, cache=False)
    factory.for_installation(None).rest("GET", CONTENTS)
    before = sim.request_counts()
    factory.for_installation(None).rest("GET", CONTENTS)
    assert sim.request_counts().counted - before.counted == 1
