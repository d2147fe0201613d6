"""`/help [command]`: the grammar, generated from each command's own help in the table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.commands.interface import Command
from bot.commands.replies import Reply
from bot.errors import UsageError
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request

NAME = "help"
USAGE = "/help [command]"


@dataclass(frozen=True)
class Args:
    command: str | None = None


def parse(words: tuple[str, ...]) -> Args:
    if len(words) > 1:
        raise UsageError("`/help` takes at most one command name.", f"Usage: `{USAGE}`.")
    return Args(words[0].lstrip("/").lower() if words else None)


def entries(table: Sequence[Command], only: str | None = None) -> list[dict[str, Any]]:
    if only is not None and all(c.name != only for c in table):
        known = ", ".join(f"/{c.name}" for c in table)
        raise UsageError(f"there is no command {code('/' + only)}.", f"Commands: {known}.")
    return [
        {
            "name": c.name,
            "usage": c.usage,
            "summary": c.summary,
            "who": c.who,
            "examples": c.examples,
        }
        for c in table
        if only is None or only == c.name
    ]


def command(table: Callable[[], Sequence[Command]]) -> Command:
    """`/help` over the table it is part of (given late: the table lists /help too)."""

    def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply:
        return Reply("info", "help", {"commands": entries(table(), args.command)})

    return Command(
        name=NAME,
        usage=USAGE,
        summary="Show the commands, who may use them, and examples.",
        who="Anyone.",
        examples=(("/help", "every command"), ("/help rollback", "one command")),
        parse=parse,
        handle=handle,
    )
