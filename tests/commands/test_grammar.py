"""Commands are read only where a person plainly typed them."""

from __future__ import annotations

from bot.commands.grammar import find, suggest, take_reason


def names(body: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(i.name, i.args) for i in find(body)]


def test_commands_at_line_start_with_arguments():
    body = "Looks good.\n/promote churn v1.2.0 to production\n  /status\n"
    assert names(body) == [("promote", ("churn", "v1.2.0", "to", "production")), ("status", ())]


def test_commands_in_code_quotes_and_html_comments_are_ignored():
    body = "\n".join(
        [
            "```",
            "/promote churn v1.0.0 to production",
            "```",
            "~~~~",
            "/rollback churn",
            "~~~~",
            "> /promote churn v9.9.9 to production",
            "    /promote indented code",
            "<!-- /rollback hidden",
            "/rollback also hidden -->",
            "please run /promote later",
            "`/promote inline`",
            "/help",
        ]
    )
    assert names(body) == [("help", ())]
    assert find(body)[0].line == 13


def test_an_unclosed_fence_hides_everything_after_it():
    assert names("```python\n/promote churn\n") == []


def test_long_lines_and_odd_characters_are_not_commands():
    assert names("/promote " + "x" * 600) == []
    assert names("/Promote churn") == []
    assert names("/promote; rm -rf /") == []


def test_reason_is_the_rest_of_the_line():
    assert take_reason(("churn", "to", "v1.0.0", "because", "p99", "doubled")) == (
        ("churn", "to", "v1.0.0"),
        "p99 doubled",
    )
    assert take_reason(("churn",)) == (("churn",), "")


def test_typos_get_a_suggestion_and_strangers_do_not():
    known = ["promote", "rollback", "approve", "retrain", "status", "help"]
    assert suggest("promte", known) == "promote"
    assert suggest("rolback", known) == "rollback"
    assert suggest("cc", known) is None


def test_lines_end_only_where_commonmark_ends_them() -> None:
    # U+2028 and friends are not line endings on GitHub: the quote swallows the command.
    for sep in ("\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"):
        assert find(f"> quoted{sep}/rollback cancer") == []
    found = find("intro\r/status\r\n/help\n")
    assert [(i.name, i.line) for i in found] == [("status", 2), ("help", 3)]


def test_echoed_words_cannot_close_their_code_span() -> None:
    from bot.rendering import code

    assert code("@alice") == "`@alice`"
    assert code("a ``` @alice ```") == "```` a ``` @alice ``` ````"
