"""The one table of chat commands; `/help` and the dispatcher read it, nothing else lists them."""

from __future__ import annotations

from bot.commands import approve, freeze, help, promote, retrain, rollback, status
from bot.commands.interface import Command

COMMANDS: tuple[Command, ...] = (
    promote.COMMAND,
    rollback.COMMAND,
    approve.COMMAND,
    freeze.FREEZE,
    freeze.UNFREEZE,
    retrain.COMMAND,
    status.COMMAND,
    help.command(lambda: COMMANDS),
)


def get(name: str) -> Command | None:
    return next((c for c in COMMANDS if c.name == name), None)


def names() -> list[str]:
    return [c.name for c in COMMANDS]
