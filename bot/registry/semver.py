"""Model versions: SemVer 2.0 with a mandatory `v` prefix, as GTO writes them."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Literal

import semver

from bot.errors import InputError

Bump = Literal["major", "minor", "patch"]
FIRST_VERSION = "v0.1.0"


def parse(version: str) -> semver.Version:
    if not version.startswith("v"):
        raise InputError(f"'{version}' is not a version: versions look like v1.2.3.")
    try:
        parsed = semver.Version.parse(version[1:])
    except ValueError:
        raise InputError(f"'{version}' is not a version: versions look like v1.2.3.") from None
    if parsed.build:
        raise InputError(
            f"'{version}' is not an mlbot version: build metadata (+...) cannot be ordered."
        )
    return parsed


def is_version(text: str) -> bool:
    try:
        parse(text)
    except InputError:
        return False
    return True


@cache
def sort_key(version: str) -> semver.Version:
    # Cached: sorting a large registry parses the same names tens of thousands of times.
    return parse(version)


def latest(versions: Iterable[str]) -> str | None:
    ordered = sorted(versions, key=sort_key)
    return ordered[-1] if ordered else None


def next_version(existing: Iterable[str], bump: Bump = "minor") -> str:
    """The version a registration without an explicit one gets."""
    top = latest(existing)
    if top is None:
        return FIRST_VERSION
    base = parse(top)
    if base.prerelease:
        # v1.3.0-rc.1 is followed by v1.3.0, whatever the bump policy says.
        bumped = base.finalize_version()
    else:
        bumped = {"major": base.bump_major, "minor": base.bump_minor, "patch": base.bump_patch}[
            bump
        ]()
    return f"v{bumped}"
