"""One error policy: every way a command ends is a reply; a bug says so, and what it wrote."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.chatops.context import RepoContext
from bot.commands import run
from bot.commands.grammar import Invocation
from bot.commands.interface import Command
from bot.commands.request import Request
from bot.errors import InputError, UsageError
from bot.server.errors import TransientError


def request() -> Request:
    return Request(
        full_name="acme/models",
        number=7,
        is_pull=False,
        requester="bob",
        comment_id=42,
        comment_url="",
        created_at=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc),
        invocation=Invocation("explode", (), 1, "/explode", "/explode"),
        default_branch="main",
        bot_login="mlbot[bot]",
        delivery_id="d-123",
    )


def command(failure: BaseException, *, writes: str | None = None) -> Command:
    def handle(rc: RepoContext, req: Request, args: object, *, completing: bool = False):
        if writes:
            rc.written.append(writes)
        raise failure

    return Command("explode", "/explode", "", "", (), lambda words: None, handle, gated=True)


def context() -> RepoContext:
    return RepoContext(gh=None, full_name="acme/models", default_branch="main")


def test_a_bug_becomes_an_error_reply_naming_the_delivery_and_what_was_written() -> None:
    reply = run.execute(context(), request(), command(KeyError("head"), writes="abc1234"))
    assert reply is not None and reply.kind == "error"
    assert reply.context["delivery"] == "d-123"
    assert reply.context["written"] == ["abc1234"]
    assert reply.context["internal"] is True


def test_usage_and_configuration_errors_are_replies_too() -> None:
    usage = run.execute(context(), request(), command(UsageError("no", "fix it")))
    assert usage is not None and (usage.kind, usage.context["fix"]) == ("usage", "fix it")
    config = run.execute(context(), request(), command(InputError("mlbot.yml is bad")))
    assert config is not None and config.kind == "refused"


def test_a_transient_failure_retries_the_job_until_the_last_attempt() -> None:
    with pytest.raises(TransientError):
        run.execute(context(), request(), command(TransientError("502")))
    last = run.execute(context(), request(), command(TransientError("502")), last_attempt=True)
    assert last is not None and last.kind == "error" and last.context["internal"] is False
