"""Each command's parse rule: what it accepts, and the words it refuses (with how to fix)."""

from __future__ import annotations

import pytest

from bot.commands import approve, help, promote, retrain, rollback, status, table
from bot.errors import UsageError


def test_promote_reads_model_version_and_stage_in_any_subset() -> None:
    assert promote.parse(()) == promote.Args()
    assert promote.parse(("cancer",)) == promote.Args("cancer")
    assert promote.parse(("v1.2.0",)) == promote.Args(None, "v1.2.0")
    assert promote.parse(("to", "production")) == promote.Args(None, None, "production")
    assert promote.parse(("cancer", "v1.2.0-rc.1", "to", "staging")) == promote.Args(
        "cancer", "v1.2.0-rc.1", "staging"
    )


@pytest.mark.parametrize(
    "words",
    [
        ("cancer", "churn"),  # two models
        ("to",),  # a stage is missing
        ("to", "Prod!"),  # not a stage name
        ("v1.2.0", "cancer"),  # the model comes first
        ("cancer;", "rm", "-rf", "/"),  # shell text is just a bad word
        ("v1.2.0+build",),  # SemVer build metadata cannot be ordered
        ("$(whoami)",),
    ],
)
def test_promote_refuses_words_outside_its_grammar(words: tuple[str, ...]) -> None:
    with pytest.raises(UsageError) as err:
        promote.parse(words)
    assert err.value.fix and "/promote" in err.value.fix


def test_rollback_takes_a_target_version_and_a_free_text_reason() -> None:
    args = rollback.parse(("cancer", "to", "v1.0.0", "because", "p99", "latency", "x3"))
    assert args == rollback.Args("cancer", "v1.0.0", "p99 latency x3")
    assert rollback.parse(("because", "to", "v9")) == rollback.Args(None, None, "to v9")
    with pytest.raises(UsageError):
        rollback.parse(("to", "production"))
    with pytest.raises(UsageError):
        rollback.parse(("cancer", "now"))


def test_approve_retrain_status_and_help() -> None:
    assert approve.parse(()) == approve.Args(False)
    assert approve.parse(("cancel",)) == approve.Args(True)
    with pytest.raises(UsageError):
        approve.parse(("please",))
    assert retrain.parse(("cancer", "because", "drift")) == retrain.Args("cancer", "drift")
    with pytest.raises(UsageError):
        retrain.parse(("cancer", "churn"))
    assert status.parse(()) == status.Args(None)
    with pytest.raises(UsageError):
        status.parse(("Cancer!",))
    assert help.parse(("/rollback",)) == help.Args("rollback")


def test_help_is_generated_from_every_command_in_the_table() -> None:
    entries = help.entries(table.COMMANDS)
    assert [e["name"] for e in entries] == table.names()
    assert table.names() == [
        "promote",
        "rollback",
        "approve",
        "freeze",
        "unfreeze",
        "retrain",
        "status",
        "help",
    ]
    for command in table.COMMANDS:
        assert command.usage.startswith(f"/{command.name}")
        assert command.who and command.summary and command.examples
    assert [c.name for c in table.COMMANDS if c.gated] == ["promote", "rollback"]
    assert [e["name"] for e in help.entries(table.COMMANDS, "status")] == ["status"]
    with pytest.raises(UsageError) as err:
        help.entries(table.COMMANDS, "deploy")
    assert "/promote" in (err.value.fix or "")
