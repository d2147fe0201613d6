"""Metric diffs with `dvc metrics diff --json` semantics, and what the baseline was.

Reading follows DVC's (`dvc.repo.metrics.show`): numbers, strings and
booleans are metrics; nested mappings flatten to dotted keys; lists, nulls
and empty mappings are not metrics and are dropped. A file that is missing
(or unreadable) on one side has every metric `null` there. Equality is
Python's, as DVC judges it, so 3 and 3.0 (or true and 1) are no change;
`diff` (new - old) is given when both sides are numbers. Unchanged metrics
are left out unless `all=True`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Scalar = int | float | str | bool
# DVC's placeholder when one side is a metric file holding a bare value and
# the other a mapping: the keys cannot be matched.
UNPARSABLE = "unable to parse"


def extract(data: object) -> Any:
    """The metrics in a parsed file: a scalar, a mapping of metrics, or None."""
    if isinstance(data, int | float | str):
        return data
    if not isinstance(data, Mapping):
        return None
    out = {}
    for key, value in data.items():
        kept = extract(value)
        if kept is not None and kept != {}:
            out[key] = kept
    return out


def flatten(data: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    metrics = extract(data)
    if not isinstance(metrics, Mapping):
        return out
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, int | float)


def _entry(old: object, new: object, with_unchanged: bool) -> dict[str, Any] | None:
    if not with_unchanged and old == new:
        return None
    entry: dict[str, Any] = {"old": old, "new": new}
    if _is_number(old) and _is_number(new):
        entry["diff"] = new - old  # type: ignore[operator]
    return entry


def _flat_side(data: object) -> tuple[dict[str, Any], Any]:
    """Flattened metrics, and what a key missing here reads as (DVC's `_flatten`)."""
    if not data:
        return {}, None
    if isinstance(data, Mapping):
        return flatten(data), None
    return {}, UNPARSABLE


def diff(old: object, new: object, *, all: bool = False) -> dict[str, dict[str, Any]]:
    """Per flattened metric: {"old", "new"} and, for two numbers, "diff" (new - old).

    `old`/`new` are a parsed metrics file each (None: missing). A file that
    holds one bare value on both sides is the metric named "".
    """
    old_m, new_m = extract(old) or {}, extract(new) or {}
    if not isinstance(old_m, Mapping) and not isinstance(new_m, Mapping):
        entry = _entry(old_m, new_m, all)
        return {"": entry} if entry else {}
    (before, old_default), (after, new_default) = _flat_side(old_m), _flat_side(new_m)
    out: dict[str, dict[str, Any]] = {}
    for key in [*after, *(k for k in before if k not in after)]:
        entry = _entry(before.get(key, old_default), after.get(key, new_default), all)
        if entry is not None:
            out[key] = entry
    return out


def diff_files(
    old: Mapping[str, object],
    new: Mapping[str, object],
    *,
    all: bool = False,
) -> dict[str, dict[str, dict[str, Any]]]:
    """The `dvc metrics diff --json` document: path -> metric -> entry.

    A path absent from a side, or given as None, is a file missing there.
    """
    out = {}
    for path in [*new, *(p for p in old if p not in new)]:
        entries = diff(old.get(path), new.get(path), all=all)
        if entries:
            out[path] = entries
    return out


@dataclass(frozen=True)
class Baseline:
    """What the candidate is compared with, so a reader is told what "old" was.

    kind "stage": the version live in a stage (`version` None when the stage
    is empty); "version": a registered version; "revision": the metrics files
    at a git revision (`commit` the resolved sha).
    """

    kind: Literal["stage", "version", "revision"]
    name: str
    version: str | None = None
    commit: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "stage":
            return f"{self.name} ({self.version})" if self.version else f"{self.name} (empty)"
        if self.kind == "version":
            return self.name
        short = (self.commit or "")[:7]
        return f"{self.name} ({short})" if short and short != self.name[:7] else self.name

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "commit": self.commit,
            "label": self.label,
        }
