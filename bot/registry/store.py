"""The interface every registry backend implements (local git, GitHub Git Data API)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from bot.errors import InputError
from bot.registry import schema, semver, tags
from bot.registry.plan import Change
from bot.registry.schema import StagesFile
from bot.registry.state import ModelState


class StaleHead(Exception):
    """The branch moved since the change was planned (or a tag appeared): re-read and retry."""


@dataclass(frozen=True)
class Identity:
    name: str
    email: str
    # The GitHub App itself: its API commits carry no author of ours, so that GitHub
    # signs them (verified) and a pushed commit cannot pass for one of mlbot's.
    github_app: bool = False

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    authored_at: dt.datetime
    message: str

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass
class Snapshot:
    """Every model at one commit, read with a constant number of backend calls."""

    head: str | None
    versions: dict[str, list[str]] = field(default_factory=dict)
    stages: dict[str, StagesFile | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class RegistryStore(Protocol):
    def head(self) -> str | None:
        """The branch's current commit, or None for a branch with no commits yet."""

    def read_model(self, model: str, head: str | None) -> ModelState: ...

    def snapshot(self, head: str | None) -> Snapshot: ...

    def tags(self, model: str | None = None) -> list[tags.TagRef]: ...

    def read_files(self, head: str, paths: list[str]) -> dict[str, bytes | None]: ...

    def list_files(self, head: str, prefix: str) -> list[str]: ...

    def on_branch(self, head: str, commits: list[str]) -> set[str]:
        """The commits among `commits` that `head` contains (itself or an ancestor)."""

    def log(self, model: str | None = None) -> list[CommitInfo]:
        """Registry commits, newest first: of one model, or (None) of every model."""

    def write(self, parent: str | None, change: Change, author: Identity) -> str:
        """Write one commit and its tags atomically; raise StaleHead if `parent` is stale."""


def read_snapshot(store: RegistryStore, head: str | None) -> Snapshot:
    """Every model's versions and stages at `head`: one listing and one batched read.

    A stages file that does not parse is reported in `problems` rather than
    raised, so `show` still lists every other model.
    """
    snap = Snapshot(head)
    if head is None:
        return snap
    stage_files = []
    for path in store.list_files(head, "registry/"):
        parts = path.split("/")
        if len(parts) == 4 and parts[2] == "versions" and parts[3].endswith(".yaml"):
            version = parts[3].removesuffix(".yaml")
            if semver.is_version(version):
                snap.versions.setdefault(parts[1], []).append(version)
        elif len(parts) == 3 and parts[2] == "stages.yaml":
            stage_files.append(path)
            snap.versions.setdefault(parts[1], [])
    for path, content in store.read_files(head, stage_files).items():
        model = path.split("/")[1]
        try:
            snap.stages[model] = schema.parse_file(path, content or b"", StagesFile)
        except InputError as err:
            snap.stages[model] = None
            snap.problems.append(str(err))
    for versions in snap.versions.values():
        versions.sort(key=semver.sort_key)
    return snap
