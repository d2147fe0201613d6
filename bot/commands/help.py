"""`/help [command]`: the grammar, generated from each command module's own help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chatops.replies import Reply, UsageError

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext, Request

NAME = "help"
USAGE = "/help [command]"
SUMMARY = "Show the commands, who may use them, and examples."
WHO = "Anyone."
EXAMPLES = (
    ("/help", "every command"),
    ("/help rollback", "one command"),
)


@dataclass(frozen=True)
class Args:
    command: str | None = None


def parse(words: tuple[str, ...]) -> Args:
    if len(words) > 1:
        raise UsageError("`/help` takes at most one command name.", f"Usage: `{USAGE}`.")
    return Args(words[0].lstrip("/").lower() if words else None)


def entries(only: str | None = None) -> list[dict[str, object]]:
    from bot.commands.registry import COMMANDS, get, names

    if only is not None and get(only) is None:
        raise UsageError(f"there is no command /{only}.", f"Commands: /{', /'.join(names())}.")
    return [
        {
            "name": m.NAME,
            "usage": m.USAGE,
            "summary": m.SUMMARY,
            "who": m.WHO,
            "examples": m.EXAMPLES,
        }
        for m in COMMANDS
        if only is None or only == m.NAME
    ]


def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply:
    return Reply("info", "help", {"commands": entries(args.command)})
