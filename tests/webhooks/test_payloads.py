import json

import pytest
from pydantic import ValidationError

from bot.webhooks import payloads

PR = {
    "number": 5,
    "head": {"ref": "feat", "sha": "a" * 40, "repo": {"id": 2, "name": "m", "full_name": "eve/m"}},
    "base": {"ref": "main", "sha": "b" * 40, "repo": {"id": 1, "name": "m", "full_name": "acme/m"}},
}


def test_unknown_fields_are_kept_not_refused():
    body = json.dumps({"ref": "refs/heads/main", "brand_new_field": {"x": 1}}).encode()
    event = payloads.parse("push", body)
    assert isinstance(event, payloads.PushEvent)
    assert event.model_extra == {"brand_new_field": {"x": 1}}


def test_what_an_event_means_nothing_without_is_required():
    with pytest.raises(ValidationError):
        payloads.parse("issue_comment", json.dumps({"action": "created"}).encode())
    with pytest.raises(ValidationError):
        payloads.parse("push", b"{}")


def test_events_without_a_model_parse_as_the_generic_event():
    event = payloads.parse("star", json.dumps({"action": "created", "x": 1}).encode())
    assert type(event) is payloads.WebhookEvent
    assert event.action == "created"


def test_a_pull_request_from_a_fork_or_a_deleted_fork_is_recognised():
    assert payloads.PullRequest.model_validate(PR).from_fork
    deleted = {**PR, "head": {**PR["head"], "repo": None}}
    assert payloads.PullRequest.model_validate(deleted).from_fork
    same = {**PR, "head": {**PR["head"], "repo": PR["base"]["repo"]}}
    assert not payloads.PullRequest.model_validate(same).from_fork


def test_a_comment_on_a_pull_request_is_told_from_one_on_an_issue():
    on_pr = payloads.Issue.model_validate({"number": 1, "pull_request": {"url": "u"}})
    on_issue = payloads.Issue.model_validate({"number": 2})
    assert on_pr.is_pull_request
    assert not on_issue.is_pull_request


BROKEN = [
    ("issue_comment", {"action": "created"}),
    ("issue_comment", {"action": "created", "issue": {"number": 1}, "comment": {"id": "x"}}),
    ("push", {}),
    ("push", {"ref": "refs/heads/main", "commits": [{"message": "no id"}]}),
    ("pull_request", {"action": "opened", "number": 1, "pull_request": {**PR, "head": {}}}),
    ("ping", {"hook": {"events": "not-a-list"}}),
    ("installation", {"action": "created", "installation": {"id": None}}),
]


@pytest.mark.parametrize(("event", "payload"), BROKEN)
def test_the_intake_check_refuses_what_parse_refuses(event, payload):
    body = json.dumps(payload).encode()
    with pytest.raises(ValidationError):
        payloads.parse(event, body)
    with pytest.raises(ValidationError):
        payloads.check(event, body)


def test_the_intake_check_accepts_every_github_example_and_reads_the_same_routing_fields():
    from tests.webhooks.test_real_payloads import all_examples

    checked = 0
    for event, examples in all_examples().items():
        for example in examples:
            body = json.dumps({**example, "field_github_adds_later": {"x": [1]}}).encode()
            full, light = payloads.parse(event, body), payloads.check(event, body)
            assert (light.action, light.installation, light.sender) == (
                full.action,
                _light(full.installation),
                _light(full.sender),
            )
            assert not light.model_extra
            checked += 1
    assert checked >= 300


def _light(model):
    # The same fields, without the unknown ones the full parse keeps.
    return None if model is None else type(model).model_validate(model.model_dump(), extra="ignore")
