"""The simulator held against recordings of real GitHub traffic (npm `@octokit/fixtures`).

For every recorded scenario whose operations the simulator serves, the recorded
requests are replayed in order against a simulator seeded with the same state, and
each answer is compared with what api.github.com answered: the status code, the
headers that matter (`ETag`, `Last-Modified`, `Link` and its relations, the
`X-RateLimit-*` family) and the response fields (every field GitHub sent is there,
and the fields a request determines have GitHub's values). Scenarios the simulator
does not serve are listed in docs/simulator.md.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.simulator import GitHubSimulator
from bot.simulator.openapi import default_spec_path

ORG = "octokit-fixture-org"
USER = "octokit-fixture-user-a"
SCENARIOS = default_spec_path().parents[2] / "fixtures/scenarios/api.github.com"
# Fields whose value a request determines; where GitHub sent one, the simulator must agree.
DETERMINED = {
    "name",
    "full_name",
    "path",
    "type",
    "size",
    "title",
    "number",
    "state",
    "context",
    "description",
    "target_url",
    "ref",
    "color",
    "message",
    "errors",
    "total_count",
    "login",
    "default_branch",
    "private",
    "encoding",
}
# Fields GitHub shows only to an organization's owners (the recording account was one);
# the simulator does not model organization roles or billing (docs/simulator.md).
OWNER_ONLY = {
    "billing_email",
    "collaborators",
    "default_repository_permission",
    "disk_usage",
    "is_verified",
    "members_allowed_repository_creation_type",
    "members_can_create_internal_repositories",
    "members_can_create_pages",
    "members_can_create_private_pages",
    "members_can_create_private_repositories",
    "members_can_create_public_pages",
    "members_can_create_public_repositories",
    "members_can_create_repositories",
    "members_can_fork_private_repositories",
    "owned_private_repos",
    "plan",
    "private_gists",
    "total_private_repos",
    "two_factor_requirement_enabled",
    "web_commit_signoff_required",
}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _recorded(name: str) -> list[dict[str, Any]]:
    return json.loads((SCENARIOS / name / "normalized-fixture.json").read_text())


def _placeholder(n: int) -> str:
    return f"{n:040d}"  # how the fixtures normalise commit SHAs


def _seed_labels(sim: GitHubSimulator, full_name: str, labels: list[dict[str, Any]]) -> None:
    repo = sim.repo(full_name)
    for recorded in labels:
        label = sim.ensure_label(repo, recorded["name"])
        label.color, label.description = recorded["color"], recorded.get("description")


def _seed(sim: GitHubSimulator, scenario: str) -> dict[str, str]:
    """The recorded account's state; returns the SHA placeholders mapped to real SHAs."""
    sim.create_org(ORG)
    shas: dict[str, str] = {}
    if scenario in ("get-repository", "get-content"):
        full = f"{ORG}/hello-world"
        sim.create_repo(full, {"README.md": "# hello-world"}, default_branch="master")
    else:
        full = f"{ORG}/{scenario}"
        sim.create_repo(full)
    sim.add_collaborator(full, USER, "admin")
    store = sim.repo(full).store
    if scenario == "labels":
        _seed_labels(sim, full, _recorded("labels")[0]["response"])
    if scenario == "paginate-issues":
        for i in range(1, 14):
            sim.create_issue(full, f"Test issue {i}", user=USER)
    if scenario in ("create-status", "git-refs"):
        # The recording moved a new branch from commit 2 to commit 1: a fast-forward.
        shas[_placeholder(2)] = store.ref_sha("heads/main") or ""
        shas[_placeholder(1)] = sim.push(full, "other", {"b.txt": "b\n"}, author=USER)
    return shas


def _swap(text: str, shas: dict[str, str]) -> str:
    for placeholder, sha in shas.items():
        text = text.replace(placeholder, sha)
    return text


def _links(header: str | None) -> dict[str, dict[str, str]]:
    """rel -> the query of its URL."""
    out = {}
    for part in (header or "").split(","):
        if ";" not in part:
            continue
        url, rel = part.split(";", 1)
        query = urllib.parse.urlsplit(url.strip()[1:-1]).query
        out[rel.strip().removeprefix('rel="').removesuffix('"')] = dict(
            urllib.parse.parse_qsl(query)
        )
    return out


def _compare(recorded: Any, answered: Any, where: str, problems: list[str]) -> None:
    if isinstance(recorded, list):
        if not isinstance(answered, list) or len(recorded) != len(answered):
            problems.append(f"{where}: {len(recorded)} items recorded, got {answered!r:.200}")
            return
        for i, (r, a) in enumerate(zip(recorded, answered, strict=True)):
            _compare(r, a, f"{where}[{i}]", problems)
        return
    if not isinstance(recorded, dict):
        return
    if not isinstance(answered, dict):
        problems.append(f"{where}: an object was recorded, got {answered!r:.200}")
        return
    missing = sorted(set(recorded) - set(answered) - OWNER_ONLY)
    if missing:
        problems.append(f"{where}: fields GitHub sends are missing: {missing}")
    for key in set(recorded) & set(answered):
        if key in DETERMINED and not isinstance(recorded[key], dict | list):
            if recorded[key] != answered[key]:
                problems.append(f"{where}.{key}: GitHub {recorded[key]!r}, got {answered[key]!r}")
        elif key == "errors" or key == "labels":
            names = [x.get("name", x) if isinstance(x, dict) else x for x in recorded[key]]
            got = [x.get("name", x) if isinstance(x, dict) else x for x in answered[key]]
            if names != got:
                problems.append(f"{where}.{key}: GitHub {names!r}, got {got!r}")
        elif isinstance(recorded[key], dict) and key in {"content", "commit", "object", "user"}:
            _compare(recorded[key], answered[key], f"{where}.{key}", problems)


def _replay(sim: GitHubSimulator, scenario: str, skip: set[int] = frozenset()) -> list[str]:
    shas = _seed(sim, scenario)
    token = sim.add_token(USER)
    problems: list[str] = []
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        for i, record in enumerate(_recorded(scenario)):
            if i in skip:
                continue
            path = _swap(record["path"], shas)
            body = record.get("body")
            content = None if body in ("", None) else _swap(json.dumps(body), shas)
            headers = {
                "Authorization": f"token {token}",
                "Accept": record["reqheaders"].get("accept", "application/vnd.github+json"),
            }
            if content is not None:
                headers["Content-Type"] = "application/json"
            answer = client.request(
                record["method"].upper(), path, content=content, headers=headers
            )
            where = f"{scenario} #{i} {record['method'].upper()} {record['path']}"
            if answer.status_code != record["status"]:
                problems.append(f"{where}: GitHub {record['status']}, got {answer.status_code}")
                continue
            got = {k.lower() for k in answer.headers}
            for header in ("etag", "last-modified"):
                if (header in record["headers"]) != (header in got):
                    problems.append(
                        f"{where}: {header} sent by GitHub: {header in record['headers']}"
                    )
            if "x-ratelimit-remaining" in record["headers"]:
                missing = [
                    h for h in (*RATE_HEADERS, "X-RateLimit-Used") if h not in answer.headers
                ]
                if missing:
                    problems.append(f"{where}: missing {missing}")
            recorded_links = _links(record["headers"].get("link"))
            answered_links = _links(answer.headers.get("Link"))
            if set(recorded_links) != set(answered_links):
                problems.append(
                    f"{where}: Link rels {sorted(recorded_links)} vs {sorted(answered_links)}"
                )
            for rel, query in recorded_links.items():
                if rel in answered_links and query != answered_links[rel]:
                    problems.append(f"{where}: Link {rel} {query} vs {answered_links[rel]}")
            if record["headers"].get("content-type", "").startswith("application/json"):
                _compare(record["response"], answer.json(), where, problems)
            elif (
                isinstance(record["response"], str)
                and record["status"] == 200
                and answer.text != record["response"]
            ):
                problems.append(f"{where}: body {answer.text!r} vs {record['response']!r}")
    return problems


# The recorded scenarios the simulator serves; the others are listed in docs/simulator.md.
SERVED = [
    "get-repository",
    "get-organization",
    "get-content",
    "create-file",
    "labels",
    "add-labels-to-issue",
    "create-status",
    "errors",
]


@pytest.mark.parametrize("scenario", SERVED)
def test_a_recorded_scenario_replays_the_same(github_sim: GitHubSimulator, scenario: str) -> None:
    assert _replay(github_sim, scenario) == []


def test_paginated_issues_replay_with_the_same_pages(github_sim: GitHubSimulator) -> None:
    """GitHub's links point at /repositories/{id}/… (absent from its description); the
    simulator's at the same path it was asked, with the same pages and relations."""
    _seed(github_sim, "paginate-issues")
    token = github_sim.add_token(USER)
    recorded = _recorded("paginate-issues")
    url: str | None = f"/repos/{ORG}/paginate-issues/issues?per_page=3"
    with httpx.Client(base_url=github_sim.url, timeout=10) as client:
        for record in recorded:
            assert url is not None
            answer = client.get(url, headers={"Authorization": f"token {token}"})
            assert answer.status_code == record["status"]
            assert [i["title"] for i in answer.json()] == [i["title"] for i in record["response"]]
            assert _links(answer.headers["Link"]) == _links(record["headers"]["link"])
            assert "ETag" in answer.headers and "X-RateLimit-Used" in answer.headers
            nxt = _links(answer.headers["Link"]).get("next")
            here = urllib.parse.urlsplit(str(answer.url)).path
            url = None if nxt is None else f"{here}?{urllib.parse.urlencode(nxt)}"
    assert url is None


def test_git_refs_replay_where_githubs_description_still_has_the_operation(
    github_sim: GitHubSimulator,
) -> None:
    # GET …/git/refs/ (the old "list references") left GitHub's description for
    # …/git/matching-refs/{ref}; the writes replay as recorded.
    assert _replay(github_sim, "git-refs", skip={0, 3}) == []


def test_every_recorded_scenario_is_replayed_or_listed_as_not_modelled() -> None:
    listed = (Path(__file__).parents[2] / "docs/simulator.md").read_text()
    for scenario in sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()):
        assert scenario in [*SERVED, "paginate-issues", "git-refs"] or f"`{scenario}`" in listed
