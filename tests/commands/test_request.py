"""A command's identity: (repository, source, id, line), as markers and trailers name it."""

from __future__ import annotations

from bot.commands.request import CommandId, digest


def test_the_trailer_names_the_command_and_matches_only_it() -> None:
    one = CommandId("acme/models", "comment", 1234, 2)
    assert one.key == "1234.2"
    assert one.trailer == "comment 1234 line 2 in acme/models"
    assert one.matches(one.trailer) and one.matches("comment 1234 line 2 in ACME/models")
    for other in (
        CommandId("acme/models", "comment", 1234, 1),  # another line of the comment
        CommandId("acme/other", "comment", 1234, 2),  # another repository
        CommandId("acme/models", "check-run", 1234, 2),  # another surface
    ):
        assert not other.matches(one.trailer)


def test_commits_written_before_identities_name_the_comment_by_url() -> None:
    url = "https://github.com/acme/models/issues/7#issuecomment-1234"
    assert CommandId("acme/models", "comment", 1234, 1).matches(url)
    assert not CommandId("acme/models", "comment", 123, 1).matches(url)
    assert CommandId("acme/models", "check-run", 5, 1).key == "check-run-5.1"


def test_the_digest_covers_the_exact_line() -> None:
    assert digest("/rollback cancer to v1.1.0") != digest("/rollback cancer to v1.0.0")
    assert digest("/promote ") != digest("/promote")
    assert len(digest("x")) == 32
