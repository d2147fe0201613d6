"""Every chat command, one module each; `/help` and the dispatcher read this list.

A command module defines NAME, USAGE, SUMMARY, WHO (who may use it), EXAMPLES
((command, what it does) pairs), `parse(words) -> Args` (raises
`bot.chatops.replies.UsageError`) and `handle(rc, req, args) -> Reply`.
"""

from __future__ import annotations

from types import ModuleType

from bot.commands import approve, help, promote, retrain, rollback, status

COMMANDS: tuple[ModuleType, ...] = (promote, rollback, approve, retrain, status, help)


def get(name: str) -> ModuleType | None:
    for module in COMMANDS:
        if name == module.NAME:
            return module
    return None


def names() -> list[str]:
    return [module.NAME for module in COMMANDS]
