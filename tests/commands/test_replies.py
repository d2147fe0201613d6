"""Replies: rendered from templates, marked for their command, split cleanly when long."""

from __future__ import annotations

import datetime as dt

from bot.commands import gated, replies
from bot.commands.grammar import Invocation
from bot.commands.request import Request, digest
from bot.policy.verdict import Check

LIMIT = 65_536


def request(line: int = 1, text: str = "/promote cancer") -> Request:
    return Request(
        full_name="acme/models",
        number=7,
        is_pull=True,
        requester="carol",
        comment_id=4242,
        comment_url="https://github.com/acme/models/pull/7#issuecomment-4242",
        created_at=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc),
        invocation=Invocation("promote", ("cancer",), line, text, text),
        default_branch="main",
        bot_login="mlbot[bot]",
    )


def refused(checks: list[Check]) -> replies.Reply:
    return replies.Reply(
        "refused",
        "refused",
        {
            "model": "cancer",
            "version": "v1.2.0",
            "stage": "production",
            "action": "promotion",
            "checks": checks,
        },
    )


def test_a_refusal_names_every_failed_check_and_how_to_fix_it() -> None:
    checks = [
        Check("permission", "fail", "mallory has read access.", "Ask an admin."),
        Check("approvals", "fail", "0 of 1 approvals.", "Ask alice to approve."),
        Check("stage-order", "pass", "v1.2.0 has been in staging."),
    ]
    (body,) = replies.parts(request(), refused(checks))
    assert body.startswith("<!-- mlbot:reply 4242.1 part 1 -->")
    assert "**permission**: mallory has read access. → Ask an admin." in body
    assert "**approvals**: 0 of 1 approvals. → Ask alice to approve." in body
    assert "2 checks failed; nothing was written" in body
    assert replies.parse_marker(body) == {"kind": "reply", "key": "4242.1", "part": "1"}


def test_comment_text_is_shown_as_inert_code_and_markdown() -> None:
    req = request(text="/promote `x` <img src=x onerror=alert(1)>")
    (body,) = replies.parts(
        req, replies.Reply("usage", "usage", {"why": "no | pipes <b>", "fix": None})
    )
    assert "`` /promote `x` <img src=x onerror=alert(1)> ``" in body
    assert "no \\| pipes &lt;b&gt;" in body


def test_a_reply_past_githubs_limit_is_split_into_marked_parts_that_each_render() -> None:
    checks = [
        Check(f"metric:m{i}", "fail", "x" * 400 + f" value {i}", "Improve the model.")
        for i in range(400)
    ]
    bodies = replies.parts(request(line=3), refused(checks))
    assert len(bodies) >= 3
    for index, body in enumerate(bodies, start=1):
        assert len(body) <= LIMIT
        assert body.startswith(f"<!-- mlbot:reply 4242.3 part {index} -->")
        assert f"_Part {index} of {len(bodies)}._" in body
        assert body.count("<details>") == body.count("</details>")
    text = "".join(bodies)
    for i in (0, 199, 399):
        assert f"value {i}" in text


def test_a_pending_marker_carries_the_head_expiry_and_digest_it_was_judged_on() -> None:
    extra = gated.pending_marker(request(), "a" * 40, 72, 1_000_000, {"removes": "v1.1.0"})
    reply = replies.Reply(
        "pending",
        "pending",
        {
            "model": "cancer",
            "version": "v1.2.0",
            "stage": "production",
            "checks": [Check("approvals", "fail", "0 of 1.", "Ask.")],
            "owners": ["alice"],
            "approvers": (),
            "discarded": (),
            "is_pull": True,
            "expiry_hours": 72,
        },
        marker_extra=extra,
    )
    (body,) = replies.parts(request(), reply)
    found = replies.parse_marker(body)
    assert found == {
        "kind": "pending",
        "key": "4242.1",
        "part": "1",
        "head": "a" * 40,
        "expires": str(1_000_000 + 72 * 3600),
        "digest": digest("/promote cancer"),
        "removes": "v1.1.0",
    }
    assert "approve this pull request with a review" in body


def test_parse_marker_ignores_text_without_a_marker() -> None:
    assert replies.parse_marker("<!-- mlbot:metrics:cancer part=1 -->") is None
    assert replies.parse_marker(None) is None
