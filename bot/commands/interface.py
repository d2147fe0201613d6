"""The one typed interface every chat command implements.

A command is a `Command`: its name, usage, one-line summary, who may use it,
examples, `parse(words) -> args` (raises `UsageError`) and
`handle(rc, req, args, *, completing=False) -> Reply | None`. A `gated`
command changes the registry: it runs through `bot.commands.gated` (judge,
then pending or refused or written, then one reply), may wait for approvals,
and is serialised and run at most once per command identity
(`bot.commands.once`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.commands.replies import Reply


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    who: str
    examples: tuple[tuple[str, str], ...]
    parse: Callable[[tuple[str, ...]], Any]
    handle: Callable[..., Reply | None]
    gated: bool = False
