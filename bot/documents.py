"""YAML documents checked against pydantic models, with errors that say where.

Every file mlbot reads from a repository (registry records, .github/mlbot.yml,
policies, data contracts) goes through here, so a broken file always names
itself and the first place it is wrong, in one sentence.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.errors import InputError
from bot.registry import yamlio

M = TypeVar("M", bound=BaseModel)


def load_mapping(content: bytes | str, source: str, *, empty_ok: bool = False) -> dict[str, Any]:
    try:
        data = yamlio.load(content)
    except Exception as exc:
        raise InputError(f"{source} is not valid YAML: {exc}".splitlines()[0]) from None
    if data is None and empty_ok:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{source} does not hold a YAML mapping.")
    return data


def where(err: ValidationError) -> str:
    """`location: message` of the first problem, and how many more there are."""
    first = err.errors()[0]
    place = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{place}: {first['msg']}{more}"


def validate(data: Any, kind: type[M], source: str) -> M:
    try:
        return kind.model_validate(data)
    except ValidationError as err:
        raise InputError(f"{source} is invalid at {where(err)}") from None


def parse(content: bytes | str, kind: type[M], source: str, *, empty_ok: bool = False) -> M:
    return validate(load_mapping(content, source, empty_ok=empty_ok), kind, source)
