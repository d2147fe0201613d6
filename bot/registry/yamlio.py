"""YAML for registry files: fast C loader when present, stable key order on dump."""

from __future__ import annotations

from typing import Any

import yaml

try:  # libyaml ships in PyYAML's wheels; the pure-Python loader is ~10x slower.
    _Loader: type = yaml.CSafeLoader
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper


def load(text: bytes | str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
