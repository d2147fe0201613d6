"""Allowlists for everything a user (or a comment) can name.

Model and stage names end up in file paths, git ref names and commit
subjects, so they are checked against a strict pattern before anything else.
"""

from __future__ import annotations

import re

from bot.errors import InputError

# GTO's artifact names allow '/', which would nest registry folders; mlbot does not.
MODEL_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
STAGE_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$")


def check_model_name(name: str) -> str:
    if not MODEL_NAME.match(name):
        raise InputError(
            f"'{name}' is not a valid model name: use lowercase letters, digits and '-' "
            "(at most 64 characters, not starting or ending with '-')."
        )
    return name


def check_stage_name(name: str) -> str:
    if not STAGE_NAME.match(name):
        raise InputError(
            f"'{name}' is not a valid stage name: use lowercase letters, digits and '-', "
            "starting with a letter."
        )
    return name
