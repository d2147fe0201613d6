"""Policy packs shipped with mlbot, and overriding them from a repository.

In a source checkout the packs are the top-level `policies/` folder; an
installed wheel carries the same files as `bot/policy/packs/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import documents
from bot.errors import InputError
from bot.policy.schema import Policy

PACKS = ("default", "strict")


def packs_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "packs", here.parents[1] / "policies"):
        if (candidate / "default.yaml").is_file():
            return candidate
    raise InputError("mlbot's policy packs are missing from this installation.")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key; anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_pack_data(name_or_path: str, repo_root: Path | None = None) -> dict[str, Any]:
    if name_or_path in PACKS:
        path = packs_dir() / f"{name_or_path}.yaml"
    else:
        path = Path(name_or_path)
        if repo_root is not None and not path.is_absolute():
            path = repo_root / path
        if not path.is_file():
            raise InputError(
                f"policy '{name_or_path}' is neither a pack ({', '.join(PACKS)}) nor a file."
            )
    return documents.load_mapping(path.read_bytes(), str(path))


def build(data: Mapping[str, Any], source: str) -> Policy:
    return documents.validate(data, Policy, f"policy from {source}")


def load_pack(name: str) -> Policy:
    return build(load_pack_data(name), name)
