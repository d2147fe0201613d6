"""The simulator holds every request and response to GitHub's OpenAPI description."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from bot.simulator import GitHubSimulator
from bot.simulator.request import Response
from bot.simulator.rest import HANDLERS
from tests.simulator.helpers import http, pygithub


@pytest.fixture
def repo(github_sim: GitHubSimulator) -> str:
    github_sim.create_repo("acme/models", {"README.md": "# models\n"})
    github_sim.create_issue("acme/models", "Drift", user="acme")
    return "acme/models"


def test_a_bad_request_body_is_refused_and_recorded(github_sim: GitHubSimulator, repo: str) -> None:
    with http(github_sim) as client:
        answer = client.post(f"/repos/{repo}/issues/1/comments", json={"bdy": "typo"})
    assert answer.status_code == 422
    assert "body" in answer.json()["message"]
    assert "is a required property" in answer.json()["message"]
    [failure] = github_sim.validation_failures
    assert failure.kind == "request"
    assert failure.path == "/repos/acme/models/issues/1/comments"
    with pytest.raises(AssertionError, match="1 OpenAPI validation failure"):
        github_sim.assert_valid()
    github_sim.validation_failures.clear()  # seen: let the fixture's teardown pass


def test_an_unknown_route_is_a_404_and_a_failure(github_sim: GitHubSimulator, repo: str) -> None:
    with http(github_sim) as client:
        assert client.get(f"/repos/{repo}/issue/1").status_code == 404
        assert client.delete(f"/repos/{repo}/issues/1").status_code == 404
    assert [f.kind for f in github_sim.validation_failures] == ["route", "route"]
    github_sim.validation_failures.clear()


def test_a_query_parameter_of_the_wrong_type_is_refused(
    github_sim: GitHubSimulator, repo: str
) -> None:
    with http(github_sim) as client:
        assert client.get(f"/repos/{repo}/issues/1/comments?per_page=many").status_code == 422
        assert client.get(f"/repos/{repo}/issues?state=sideways").status_code == 422
    assert len(github_sim.validation_failures) == 2
    assert "per_page" in str(github_sim.validation_failures[0])
    github_sim.validation_failures.clear()


def test_malformed_json_is_a_400(github_sim: GitHubSimulator, repo: str) -> None:
    with http(github_sim) as client:
        answer = client.post(
            f"/repos/{repo}/issues/1/comments",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 400
    assert answer.json()["message"] == "Problems parsing JSON"
    github_sim.validation_failures.clear()


def test_a_response_that_breaks_the_schema_is_a_simulator_bug(
    github_sim: GitHubSimulator, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong_id(ctx):
        good = ctx.sim.render.issue(ctx.sim.issue("acme/models", 1))
        return Response(200, {**good, "id": "one"})

    monkeypatch.setitem(HANDLERS, "issues/get", wrong_id)
    with http(github_sim) as client:
        client.get(f"/repos/{repo}/issues/1")
    monkeypatch.setitem(HANDLERS, "issues/get", lambda ctx: Response(200, {"id": 1}))
    with http(github_sim) as client:
        client.get(f"/repos/{repo}/issues/1")
    wrong, partial = github_sim.validation_failures
    assert (wrong.kind, partial.kind) == ("response", "response")
    [message] = wrong.messages
    assert message.startswith("id:") and "is not of type" in message
    assert all("is a required property" in m for m in partial.messages)
    github_sim.validation_failures.clear()


def test_an_undocumented_success_status_is_a_failure(
    github_sim: GitHubSimulator, repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(HANDLERS, "issues/get", lambda ctx: Response(204))
    with http(github_sim) as client:
        client.get(f"/repos/{repo}/issues/1")
    assert "status 204 is not documented" in str(github_sim.validation_failures)
    github_sim.validation_failures.clear()


def test_a_valid_operation_the_simulator_lacks_is_reported(
    github_sim: GitHubSimulator, repo: str
) -> None:
    with http(github_sim) as client:
        assert client.get(f"/repos/{repo}/releases").status_code == 501
    [failure] = github_sim.validation_failures
    assert failure.kind == "unimplemented"
    github_sim.validation_failures.clear()


def test_requests_need_credentials(github_sim: GitHubSimulator, repo: str) -> None:
    import httpx

    with httpx.Client(base_url=github_sim.url) as client:
        assert client.get(f"/repos/{repo}").status_code == 401
        bad = client.get(f"/repos/{repo}", headers={"Authorization": "token nope"})
        assert bad.status_code == 401
        assert bad.json()["message"] == "Bad credentials"
    assert github_sim.validation_failures == []


def test_pygithub_traffic_validates(github_sim: GitHubSimulator, repo: str) -> None:
    github_sim.add_collaborator(repo, "alice", "triage")  # labelling takes triage
    gh = pygithub(github_sim)
    r = gh.get_repo(repo)
    issue = r.get_issue(1)
    issue.create_comment("hello")
    issue.add_to_labels("mlbot:drift")
    assert [c.body for c in issue.get_comments()] == ["hello"]
    assert github_sim.validation_failures == []


def test_the_fixture_fails_a_test_that_sent_a_bad_request(tmp_path) -> None:
    test_file = tmp_path / "test_bad.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import httpx
            from bot.simulator.pytest_plugin import github_sim, make_github_sim  # noqa: F401

            def test_sends_a_bad_body(github_sim):
                github_sim.create_repo("acme/models")
                token = github_sim.add_token("alice")
                httpx.post(
                    github_sim.url + "/repos/acme/models/issues",
                    json={"title": 42, "labels": "not-a-list"},
                    headers={"Authorization": "token " + token},
                )
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        # Third-party pytest plugins of the venv are not needed here, and cost seconds to load.
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert result.returncode == 1, result.stdout
    assert "1 passed, 1 error" in result.stdout
    assert "OpenAPI validation failure" in result.stdout
    assert "POST /repos/acme/models/issues" in result.stdout
