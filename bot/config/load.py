"""Reading `.github/mlbot.yml` and the policy in force for a model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import documents
from bot.config.schema import CONFIG_PATH, ModelConfig, RepoConfig
from bot.errors import InputError
from bot.policy import packs
from bot.policy.schema import Policy


def parse_config(content: bytes | str, source: str = CONFIG_PATH) -> RepoConfig:
    return documents.parse(content, RepoConfig, source, empty_ok=True)


def load_config(repo_root: Path) -> RepoConfig:
    path = repo_root / CONFIG_PATH
    if not path.is_file():
        raise InputError(f"{CONFIG_PATH} not found in {repo_root}: run `mlbot init` first.")
    return parse_config(path.read_bytes(), str(path))


def model_config(config: RepoConfig, model: str) -> ModelConfig:
    try:
        return config.models[model]
    except KeyError:
        known = ", ".join(sorted(config.models)) or "none"
        raise InputError(
            f"model '{model}' is not configured in {CONFIG_PATH} (configured: {known})."
        ) from None


def policy_for(config: RepoConfig, model: str | None, repo_root: Path | None = None) -> Policy:
    """The policy in force in a local checkout: a pack, or a policy file under `repo_root`."""
    return merged_policy(config, model, packs.load_pack_data(config.policy, repo_root))


def policy_with_notes(
    config: RepoConfig, model: str | None, repo_root: Path | None = None
) -> tuple[Policy, list[str]]:
    """`policy_for`, and what the overrides dropped or changed to get it (`policy check`)."""
    return merged_with_notes(config, model, packs.load_pack_data(config.policy, repo_root))


def policy_from_bytes(config: RepoConfig, model: str | None, policy_file: bytes) -> Policy:
    """The policy in force when its file was read from elsewhere (a branch through the API)."""
    return merged_policy(config, model, documents.load_mapping(policy_file, config.policy))


def merged_policy(config: RepoConfig, model: str | None, data: dict[str, Any]) -> Policy:
    """The pack, then the repository's overrides, then the model's own."""
    return merged_with_notes(config, model, data)[0]


def merged_with_notes(
    config: RepoConfig, model: str | None, data: dict[str, Any]
) -> tuple[Policy, list[str]]:
    data, notes = packs.apply_overrides(data, config.policy_overrides)
    if model is not None and model in config.models:
        data, more = packs.apply_overrides(data, config.models[model].policy)
        notes += [f"{model}: {n}" for n in more]
    source = f"{config.policy} with the overrides in {CONFIG_PATH}"
    return packs.build(data, source), notes
