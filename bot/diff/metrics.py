"""Metric diffs with `dvc metrics diff --json` semantics.

Nested mappings flatten to dotted keys; lists and nulls are not metrics and
are dropped, as DVC drops them; `diff` is given only when both sides are
numbers (booleans count, as in DVC); unchanged metrics are left out unless
`all=True`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Scalar = int | float | str | bool


def flatten(data: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    for key, value in (data or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, int | float | str | bool):
            out[name] = value
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float)


def diff(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, all: bool = False
) -> dict[str, dict[str, Any]]:
    """Per flattened metric: {"old", "new"} and, for two numbers, "diff" (new - old)."""
    before, after = flatten(old), flatten(new)
    out: dict[str, dict[str, Any]] = {}
    for key in [*after, *(k for k in before if k not in after)]:
        a, b = before.get(key), after.get(key)
        if not all and a == b and type(a) is type(b):
            continue
        entry: dict[str, Any] = {"old": a, "new": b}
        if _is_number(a) and _is_number(b):
            entry["diff"] = b - a  # type: ignore[operator]
        out[key] = entry
    return out


def diff_files(
    old: Mapping[str, Mapping[str, Any] | None],
    new: Mapping[str, Mapping[str, Any] | None],
    *,
    all: bool = False,
) -> dict[str, dict[str, dict[str, Any]]]:
    """The `dvc metrics diff --json` document: path -> metric -> entry."""
    out = {}
    for path in [*new, *(p for p in old if p not in new)]:
        entries = diff(old.get(path), new.get(path), all=all)
        if entries:
            out[path] = entries
    return out
