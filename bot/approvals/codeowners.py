"""CODEOWNERS, read the way GitHub reads it.

GitHub uses the first CODEOWNERS file it finds in `.github/`, the root, then
`docs/`; the last matching pattern wins; a matching pattern with no owners
means the path has no owner. The `codeowners` library implements the
pattern rules; this module adds the file lookup and the owner kinds.
Callers must pass the file from the **default branch**: a pull request
must never be able to choose its own approvers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class Owner:
    kind: Literal["user", "team", "email"]
    name: str  # login without '@', "org/team" for teams, or an email address

    def __str__(self) -> str:
        return self.name if self.kind == "email" else f"@{self.name}"


def find(read: Callable[[str], str | None]) -> tuple[str, str] | None:
    """(path, text) of the CODEOWNERS file GitHub would use, given a reader of files."""
    for path in LOCATIONS:
        text = read(path)
        if text is not None:
            return path, text
    return None


def owners_of(text: str, path: str) -> list[Owner]:
    from codeowners import CodeOwners

    kinds = {"USERNAME": "user", "TEAM": "team", "EMAIL": "email"}
    owners = []
    for kind, name in CodeOwners(text).of(path):
        owners.append(Owner(kinds[kind], name.lstrip("@")))  # type: ignore[arg-type]
    return owners
