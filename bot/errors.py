"""Errors the CLI and the bot turn into an exit code and one clear sentence.

Exit codes follow one rule across every command: 0 done, 1 refused by a gate
or a check, 2 a usage or input error.
"""

from __future__ import annotations


class MlbotError(Exception):
    """Base class: a problem a person can act on, described in one sentence."""

    exit_code = 2


class InputError(MlbotError):
    """Bad usage or bad input: a missing file, malformed YAML, an unknown model."""

    exit_code = 2


class Refused(MlbotError):
    """A gate or a check said no; nothing was written."""

    exit_code = 1


class Conflict(MlbotError):
    """The branch moved under a write more times than we retry."""

    exit_code = 1


class UsageError(InputError):
    """A command's words do not fit its grammar or its allowlists; says how to fix it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
