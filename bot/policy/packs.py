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


def apply_overrides(
    base: Mapping[str, Any], override: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """`merge`, and what a new stage list implies; with a note for each thing it dropped.

    A deep merge alone cannot remove a key, so a repository whose stages are
    `dev, staging, prod` would keep the pack's `promotion.production` (and
    fail validation). When the override names `stages`, the list replaces the
    pack's, promotion blocks and `from` entries of stages that are gone are
    dropped (unless the override itself writes them, which is then an error
    to fix), and a baseline stage that is gone becomes the last stage.
    """
    data = merge(base, override)
    if "stages" not in override or not isinstance(data.get("stages"), list):
        return data, []
    stages = [str(s) for s in data["stages"]]
    own = override.get("promotion") or {}
    notes = []
    promotion: dict[str, Any] = {}
    for stage, rule in (data.get("promotion") or {}).items():
        if stage not in stages and stage not in own:
            notes.append(f"promotion.{stage} dropped: {stage} is not one of the stages {stages}")
            continue
        if isinstance(rule, Mapping) and isinstance(rule.get("from"), list):
            explicit = isinstance(own.get(stage), Mapping) and "from" in own[stage]
            gone = [s for s in rule["from"] if s not in stages]
            if gone and not explicit:
                rule = {**rule, "from": [s for s in rule["from"] if s in stages]}
                notes.append(f"promotion.{stage}.from: dropped {', '.join(gone)} (no such stage)")
        promotion[stage] = rule
    data["promotion"] = promotion
    if data.get("baseline_stage") not in stages and "baseline_stage" not in override and stages:
        notes.append(
            f"baseline_stage: {data.get('baseline_stage')} is not a stage; metric regression "
            f"is measured against {stages[-1]}"
        )
        data["baseline_stage"] = stages[-1]
    for stage in stages:
        if stage not in promotion:
            notes.append(
                f"promotion.{stage}: no rules of its own, so any registered version may enter "
                f"{stage} with no approval (add overrides.promotion.{stage} to require some)"
            )
    return data, notes


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
