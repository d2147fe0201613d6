"""Opening a model repository for a CLI command: store, config, policy, author."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from bot.config.load import load_config, model_config, policy_for
from bot.config.schema import RepoConfig
from bot.errors import InputError
from bot.ml import model_registry
from bot.registry.git_store import GitStore
from bot.registry.names import check_model_name
from bot.registry.service import Registry
from bot.registry.store import Identity


def add_repo_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo", type=Path, default=Path("."), help="the model repository (default: .)"
    )


@dataclass
class Repo:
    root: Path
    store: GitStore
    config: RepoConfig
    author: Identity

    def registry(self) -> Registry:
        return Registry(
            self.store,
            lambda model: policy_for(self.config, model, self.root),
            author=self.author,
            repo_root=self.root,
            projections=model_registry.projections(self.store, self.config),
        )

    def model(self, name: str) -> str:
        check_model_name(name)
        model_config(self.config, name)
        return name


def open_repo(args: argparse.Namespace) -> Repo:
    root = Path(args.repo).resolve()
    store = GitStore(root)
    config = load_config(root)
    return Repo(root, store, config, store.identity())


def read_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{what} file {path} does not exist.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} file {path} is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise InputError(f"{what} file {path} must hold a JSON object.")
    return data


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2, sort_keys=False, default=str))
