"""Comment text that tries to smuggle a command past the grammar's rules."""

from __future__ import annotations

from tests.security.attacks import World, assert_ignored

# CommonMark (and GitHub) end a line only at \n, \r\n or \r; Python's str.splitlines also
# splits at these, which would lift a command out of a quote, a fence or a paragraph.
NOT_LINE_ENDINGS = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]


def test_a_unicode_separator_does_not_lift_a_command_out_of_a_quote(world: World) -> None:
    quoted = [f"> someone said{sep}/rollback cancer because quoted" for sep in NOT_LINE_ENDINGS]
    assert_ignored(world, world.issue(), quoted, user="bob")


def test_a_unicode_separator_does_not_lift_a_command_out_of_a_fence(world: World) -> None:
    assert_ignored(world, world.issue(), ["```\nexample\u2028/rollback cancer\n```"], user="bob")


HIDDEN = [
    "```\n/rollback cancer\n```",  # fence
    "~~~~\n/rollback cancer\n~~~~",  # tilde fence
    "    /rollback cancer",  # indented code
    "> /rollback cancer",  # quote
    "<!-- /rollback cancer -->",  # HTML comment
    "<!--\n/rollback cancer\n-->",  # HTML comment over lines
    "text /rollback cancer",  # mid-line
    "`/rollback cancer`",  # inline code
]


def test_commands_in_code_quotes_or_comments_never_run(world: World) -> None:
    assert_ignored(world, world.issue(), HIDDEN, user="bob")


def test_a_crlf_comment_still_runs_each_line(world: World) -> None:
    issue = world.issue()
    world.comment(issue, "Incident.\r\n/status cancer\r\n", user="carol")
    world.settle()
    assert "Registry status" in world.last_reply(issue)


def test_a_command_from_a_bot_account_never_runs(world: World) -> None:
    world.sim.user("evil-bot[bot]", type="Bot")
    world.sim.add_collaborator(world.repo, "evil-bot[bot]", "write")
    assert_ignored(world, world.issue(), ["/rollback cancer because bots"], user="evil-bot[bot]")
