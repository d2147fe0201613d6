"""Where GitHub refuses or answers in a particular way, the simulator does the same.

Each test here failed against the simulator before it was fixed: it accepted what
GitHub refuses, or answered in a shape GitHub never sends.
"""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

from bot.simulator import GitHubSimulator
from tests.simulator.helpers import app_http, http
from tests.simulator.receiver import WebhookReceiver

SECRET = "It's a Secret to Everybody"


def _examples(event: str) -> list[dict]:
    from bot.simulator.openapi import default_spec_path

    root = default_spec_path().parents[2]  # node_modules/@octokit
    index = root / "webhooks-examples/api.github.com/index.json"
    return next(e for e in json.loads(index.read_text()) if e["name"] == event)["examples"]


@pytest.fixture
def sim(github_sim: GitHubSimulator) -> GitHubSimulator:
    github_sim.create_repo("acme/models", {"README.md": "# models\n"})
    github_sim.create_repo("acme/secret", {"README.md": "# secret\n"}, private=True)
    github_sim.create_repo("acme/other", {"README.md": "# other\n"})
    github_sim.add_collaborator("acme/models", "alice", "write")
    github_sim.add_collaborator("acme/models", "rita", "read")
    github_sim.add_collaborator("acme/models", "tom", "triage")
    return github_sim


def _installation_client(sim: GitHubSimulator, repos: list[str] | None, **permissions: str):
    app = sim.create_app(f"app{len(sim.apps)}")
    inst = sim.install(app, "acme", repos=repos, permissions=permissions or None)
    client = http(sim)
    client.headers["Authorization"] = f"token {sim.issue_installation_token(inst).value}"
    return client


def _put(client, repo: str, path: str, text: str):
    content = base64.b64encode(text.encode()).decode()
    return client.put(f"/repos/{repo}/contents/{path}", json={"message": "x", "content": content})


# -- installation tokens ------------------------------------------------------------------
def test_an_installation_token_cannot_write_to_a_repository_it_does_not_cover(sim) -> None:
    with _installation_client(sim, ["acme/models"]) as client:
        assert _put(client, "acme/models", "a.txt", "1\n").status_code == 201
        assert _put(client, "acme/other", "a.txt", "1\n").status_code == 404
        issue = client.post("/repos/acme/other/issues", json={"title": "smuggled"})
        assert issue.status_code == 404
        assert client.get("/repos/acme/secret").status_code == 404  # private, not covered
        assert client.get("/repos/acme/other").status_code == 200  # public reads stay public
    assert sim.issues("acme/other") == []
    assert (
        sim.repo("acme/other").store.read_path(
            sim.repo("acme/other").store.ref_sha("heads/main"), "a.txt"
        )
        is None
    )


def test_an_installation_token_needs_the_permission_of_its_operation(sim) -> None:
    with _installation_client(sim, None, contents="read", issues="write") as client:
        refused = _put(client, "acme/models", "a.txt", "1\n")
        assert refused.status_code == 403
        assert refused.json()["message"] == "Resource not accessible by integration"
        head = sim.repo("acme/models").store.ref_sha("heads/main")
        status = client.post(f"/repos/acme/models/statuses/{head}", json={"state": "success"})
        assert status.status_code == 403  # no `statuses` permission at all
        assert client.get("/repos/acme/models/contents/README.md").status_code == 200
        assert client.post("/repos/acme/models/issues", json={"title": "ok"}).status_code == 201


def test_a_token_narrowed_when_it_is_made_holds_only_what_it_was_given(sim) -> None:
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme")
    path = f"/app/installations/{inst.id}/access_tokens"
    with app_http(sim, app) as client:
        made = client.post(
            path, json={"repositories": ["models"], "permissions": {"issues": "write"}}
        )
        too_much = client.post(path, json={"permissions": {"administration": "write"}})
        everything = client.post(path, json={"permissions": {}})  # as PyGithub asks
        elsewhere = client.post(path, json={"repositories": ["nope"]})
    assert made.status_code == 201
    assert [r["full_name"] for r in made.json()["repositories"]] == ["acme/models"]
    assert made.json()["permissions"] == {"issues": "write"}
    assert too_much.status_code == 422 and elsewhere.status_code == 422
    assert everything.json()["permissions"] == inst.permissions
    with http(sim) as client:
        client.headers["Authorization"] = f"token {made.json()['token']}"
        assert client.post("/repos/acme/models/issues", json={"title": "ok"}).status_code == 201
        assert client.post("/repos/acme/other/issues", json={"title": "no"}).status_code == 404
        assert _put(client, "acme/models", "a.txt", "1\n").status_code == 403


# -- collaborator roles --------------------------------------------------------------------
def test_a_reader_cannot_change_the_repository(sim) -> None:
    with http(sim, "rita") as client:
        assert _put(client, "acme/models", "a.txt", "1\n").status_code == 404
        head = sim.repo("acme/models").store.ref_sha("heads/main")
        ref = client.post("/repos/acme/models/git/refs", json={"ref": "refs/heads/x", "sha": head})
        assert ref.status_code == 404
        label = client.post("/repos/acme/models/labels", json={"name": "x", "color": "ffffff"})
        assert label.status_code == 404
        # What any reader may do: open an issue (its labels are dropped), comment on it.
        issue = client.post("/repos/acme/models/issues", json={"title": "t", "labels": ["x"]})
        assert issue.status_code == 201 and issue.json()["labels"] == []
        number = issue.json()["number"]
        added = client.post(f"/repos/acme/models/issues/{number}/labels", json={"labels": ["x"]})
        assert added.status_code == 404  # labelling takes triage
    with http(sim, "tom") as client:
        added = client.post(f"/repos/acme/models/issues/{number}/labels", json={"labels": ["x"]})
        assert added.status_code == 200
    assert sim.repo("acme/models").store.ref_sha("heads/x") is None


def test_only_the_author_or_a_writer_edits_or_deletes_a_comment_or_an_issue(sim) -> None:
    number = sim.create_issue("acme/models", "Drift", user="alice")
    comment = sim.comment("acme/models", number, "/promote fraud", user="alice")
    with http(sim, "rita") as client:
        path = f"/repos/acme/models/issues/comments/{comment}"
        assert client.delete(path).status_code == 403
        assert client.patch(path, json={"body": "/rollback"}).status_code == 403
        issue = client.patch(f"/repos/acme/models/issues/{number}", json={"title": "mine"})
        assert issue.status_code == 403
    assert sim.comments[comment].body == "/promote fraud"
    assert sim.issue("acme/models", number).title == "Drift"


private = pytest.mark.parametrize("login", ["mallory", "rita"])


@private
def test_a_private_repository_is_not_found_for_anyone_without_access(sim, login) -> None:
    with http(sim, login) as client:
        assert client.get("/repos/acme/secret").status_code == 404
        assert client.get("/repos/acme/secret/contents/README.md").status_code == 404


# -- reviews -------------------------------------------------------------------------------
def test_reviews_follow_githubs_rules(sim) -> None:
    sim.push("acme/models", "better", {"model.py": "v2\n"}, author="alice")
    number = sim.open_pr("acme/models", "better", user="alice")
    base = f"/repos/acme/models/pulls/{number}/reviews"
    with http(sim, "alice") as client:
        own = client.post(base, json={"event": "REQUEST_CHANGES", "body": "no"})
        assert own.status_code == 422  # not on your own pull request either
    with http(sim, "rita") as client:
        assert client.post(base, json={"event": "COMMENT"}).status_code == 422  # needs a body
        assert client.post(base, json={"event": "REQUEST_CHANGES"}).status_code == 422
        unknown = client.post(base, json={"event": "APPROVE", "commit_id": "f" * 40})
        assert unknown.status_code == 422
        comment = client.post(base, json={"event": "COMMENT", "body": "looks fine"}).json()
    with http(sim, "alice") as client:
        dismiss = client.put(f"{base}/{comment['id']}/dismissals", json={"message": "x"})
        assert dismiss.status_code == 422  # a comment is not a verdict to dismiss
    assert sim.reviews[comment["id"]].state == "COMMENTED"


def test_review_webhooks_carry_the_schemas_lower_case_states(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models")
        sim.push("acme/models", "better", {"model.py": "v2\n"}, author="bob")
        number = sim.open_pr("acme/models", "better", user="bob")
        review = sim.submit_review("acme/models", number, user="alice")
        sim.dismiss_review(review, user="acme")
        sim.wait_for_webhooks()
        with http(sim, "alice") as client:
            listed = client.get(f"/repos/acme/models/pulls/{number}/reviews").json()
    events = [json.loads(r.body) for r in receiver.received]
    reviews = [(e["action"], e["review"]["state"]) for e in events if "review" in e]
    assert reviews == [("submitted", "approved"), ("dismissed", "dismissed")]
    assert [r["state"] for r in listed] == ["DISMISSED"]  # the REST API keeps upper case
    assert {e["review"]["state"] for e in _examples("pull_request_review")} <= {
        "approved",
        "commented",
        "changes_requested",
        "dismissed",
    }


def test_editing_an_issue_or_a_pull_request_is_announced_with_what_it_was(
    make_github_sim,
) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models")
        number = sim.create_issue("acme/models", "Drift", "first", user="acme")
        sim.push("acme/models", "better", {"model.py": "v2\n"}, author="acme")
        pr = sim.open_pr("acme/models", "better", user="acme", title="Better", body="b")
        with http(sim, "acme") as client:
            client.patch(f"/repos/acme/models/issues/{number}", json={"body": "second"})
            client.patch(f"/repos/acme/models/pulls/{pr}", json={"title": "Best", "body": "b"})
        sim.wait_for_webhooks()
    edited = [json.loads(r.body) for r in receiver.received if b'"edited"' in r.body[:40]]
    assert [e["changes"] for e in edited] == [
        {"body": {"from": "first"}},
        {"title": {"from": "Better"}},
    ]
    assert edited[0]["issue"]["body"] == "second" and edited[1]["pull_request"]["title"] == "Best"


def test_a_label_colour_must_be_six_hex_digits(sim) -> None:
    with http(sim, "alice") as client:
        bad = client.post("/repos/acme/models/labels", json={"name": "foo", "color": "invalid"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"resource": "Label", "code": "invalid", "field": "color"}]


# -- commit verification and pushes --------------------------------------------------------
def test_commits_an_app_creates_through_the_api_are_verified_and_others_are_not(sim) -> None:
    with _installation_client(sim, None) as app:
        created = _put(app, "acme/models", "registry.yaml", "v: 1\n").json()["commit"]
        custom = app.put(
            "/repos/acme/models/contents/other.yaml",
            json={
                "message": "x",
                "content": base64.b64encode(b"v: 2\n").decode(),
                "author": {"name": "Alice", "email": "alice@example.test"},
            },
        ).json()["commit"]
        verified = app.get(f"/repos/acme/models/commits/{created['sha']}").json()
    with http(sim, "alice") as user:
        by_user = _put(user, "acme/models", "user.yaml", "v: 3\n").json()["commit"]
    pushed = sim.push(
        "acme/models",
        "main",
        {"registry.yaml": "v: 9\n"},
        author="alice",
        author_name="mlbot[bot]",
        author_email=sim.user("app0[bot]").email,
    )
    with http(sim, "alice") as user:
        forged = user.get(f"/repos/acme/models/git/commits/{pushed}").json()
    assert created["verification"]["verified"] is True
    assert created["verification"]["reason"] == "valid"
    assert created["committer"]["name"] == "GitHub"
    assert verified["commit"]["verification"]["verified"] is True
    assert created["verification"]["payload"].startswith("tree ")
    for commit in (custom, by_user, forged):
        assert commit["verification"] == {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        }
    assert forged["author"]["name"] == "mlbot[bot]"  # the claim is there; it proves nothing


def test_a_merge_github_makes_is_verified(sim) -> None:
    sim.push("acme/models", "better", {"model.py": "v2\n"}, author="alice")
    number = sim.open_pr("acme/models", "better", user="alice")
    sha = sim.merge_pr("acme/models", number, user="alice")
    with http(sim, "alice") as client:
        commit = client.get(f"/repos/acme/models/git/commits/{sha}").json()
    assert commit["verification"]["verified"] is True
    assert commit["author"]["name"] == "alice" and commit["committer"]["name"] == "GitHub"


def _shape(value):
    """The keys of nested objects, the way two payloads can be compared for shape."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def test_a_push_as_a_user_is_announced_as_github_sends_push(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models", {"README.md": "# models\n", "old.txt": "x\n"})
        before = sim.repo("acme/models").store.ref_sha("heads/main")
        sha = sim.push(
            "acme/models",
            "main",
            {
                "registry/fraud/stages.yaml": "production: v9\n",
                "README.md": "# m\n",
                "old.txt": None,
            },
            message="registry: promote fraud v9 to production",
            author_name="mlbot[bot]",
            author_email="mlbot@example.test",
            pusher="mallory",
        )
        branch = sim.push("acme/models", "feature", {"f.txt": "1\n"}, author="bob")
        sim.wait_for_webhooks()
    pushes = [
        json.loads(r.body) for r in receiver.received if r.headers["X-GitHub-Event"] == "push"
    ]
    main, feature = pushes
    assert (main["before"], main["after"], main["created"], main["forced"]) == (
        before,
        sha,
        False,
        False,
    )
    assert main["pusher"] == {"name": "mallory", "email": sim.user("mallory").email}
    [commit] = main["commits"]
    assert commit["author"] == {"name": "mlbot[bot]", "email": "mlbot@example.test"}
    assert commit["message"] == "registry: promote fraud v9 to production"
    assert (commit["added"], commit["modified"], commit["removed"]) == (
        ["registry/fraud/stages.yaml"],
        ["README.md"],
        ["old.txt"],
    )
    assert main["head_commit"]["id"] == sha
    assert main["compare"].endswith(f"/compare/{before[:12]}...{sha[:12]}")
    assert feature["created"] is True and feature["before"] == "0" * 40
    assert [c["id"] for c in feature["commits"]] == [branch]
    assert feature["commits"][0]["author"]["username"] == "bob"
    # The shape GitHub sends, from the recorded examples: the same keys at every level.
    [example] = [e for e in _examples("push") if e["commits"] and e["ref"] == "refs/heads/master"][
        :1
    ]
    for key in ("repository", "sender", "organization", "enterprise", "installation"):
        example.pop(key, None)
        main.pop(key, None)
    assert set(main) == set(example)
    assert set(_shape(main["commits"][0])) == set(_shape(example["commits"][0]))
    assert set(main["pusher"]) == set(example["pusher"])


def test_a_real_git_push_arrives_unverified_whatever_its_author_says(sim, tmp_path) -> None:
    clone = tmp_path / "clone"
    store = sim.repo("acme/models").store
    subprocess.run(["git", "clone", "-q", str(store.path), str(clone)], check=True)
    (clone / "stages.yaml").write_text("production: v9\n")
    env = {"GIT_AUTHOR_NAME": "mlbot[bot]", "GIT_AUTHOR_EMAIL": "bot@example.test"}
    git = ["git", "-C", str(clone), "-c", "user.name=x", "-c", "user.email=x@example.test"]
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "registry: promote"], check=True, env={**_env(), **env})
    sha = sim.push_git("acme/models", clone, "main", pusher="mallory")
    with http(sim, "alice") as client:
        commit = client.get(f"/repos/acme/models/commits/{sha}").json()
    assert commit["commit"]["author"]["name"] == "mlbot[bot]"
    assert commit["commit"]["verification"]["verified"] is False
    assert store.ref_sha("heads/main") == sha
    (clone / "stages.yaml").write_text("production: v1\n")
    subprocess.run([*git, "commit", "-qam", "x", "--amend"], check=True, env=_env())
    with pytest.raises(ValueError, match="non-fast-forward"):
        sim.push_git("acme/models", clone, "main", pusher="mallory")
    assert store.ref_sha("heads/main") == sha


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_a_tag_pushed_through_the_api_is_announced_like_a_branch(make_github_sim) -> None:
    with WebhookReceiver() as receiver:
        sim: GitHubSimulator = make_github_sim(webhook_url=receiver.url, webhook_secret=SECRET)
        sim.create_repo("acme/models")
        head = sim.repo("acme/models").store.ref_sha("heads/main")
        with _installation_client(sim, None) as client:
            tag = client.post(
                "/repos/acme/models/git/tags",
                json={"tag": "fraud@v1.0.0", "message": "v1", "object": head, "type": "commit"},
            ).json()
            ref = {"ref": "refs/tags/fraud@v1.0.0", "sha": tag["sha"]}
            assert client.post("/repos/acme/models/git/refs", json=ref).status_code == 201
        sim.wait_for_webhooks()
    [push] = [
        json.loads(r.body) for r in receiver.received if r.headers["X-GitHub-Event"] == "push"
    ]
    assert push["ref"] == "refs/tags/fraud@v1.0.0" and push["created"] is True
    assert push["after"] == tag["sha"] and push["commits"] == []
    assert push["head_commit"]["id"] == head


def test_a_comment_updates_its_issue_and_a_suspended_installation_is_refused(sim) -> None:
    number = sim.create_issue("acme/models", "Drift", user="alice")
    before = sim.issue("acme/models", number).updated_at
    sim.advance(5)
    sim.comment("acme/models", number, "later", user="alice")
    assert sim.issue("acme/models", number).updated_at > before
    app = sim.create_app("mlbot")
    inst = sim.install(app, "acme")
    token = sim.issue_installation_token(inst).value
    inst.suspended = True
    with http(sim) as client:
        client.headers["Authorization"] = f"token {token}"
        answer = client.get(f"/repos/acme/models/issues/{number}")
    assert answer.status_code == 403
    assert answer.json()["message"] == "This installation has been suspended"
