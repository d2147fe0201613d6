"""A model's registry state at one commit: plain data read by a backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.registry import semver, tags
from bot.registry.schema import StagesFile, VersionRecord


@dataclass
class ModelState:
    model: str
    head: str | None  # the branch commit this state was read at
    versions: list[str]  # version names with a record file, in SemVer order
    stages: StagesFile | None
    events: list[tags.TagEvent]  # this model's tags, oldest first
    load_record: Callable[[str], VersionRecord] = field(repr=False, default=None)  # type: ignore[assignment]
    # A backend that knows the newest tag date without reading every tag (GitHub: from
    # the commits' Mlbot-Tag lines) says so here, so the timestamp rule costs no extra call.
    last_tag_time: Callable[[], dt.datetime | None] | None = field(repr=False, default=None)

    def record(self, version: str) -> VersionRecord:
        return self.load_record(version)

    @property
    def live(self) -> dict[str, str]:
        return self.stages.live() if self.stages else {}

    def registration_commit(self, version: str) -> str | None:
        for event in self.events:
            if event.kind == "registration" and event.version == version:
                return event.ref.target
        return None

    def last_tagged_at(self) -> dt.datetime | None:
        if self.last_tag_time is not None:
            return self.last_tag_time()
        return max((e.ref.tagged_at for e in self.events), default=None)

    def stage_history(self, version: str) -> frozenset[str]:
        if not self.stages:
            return frozenset()
        seen = set()
        for stage, state in self.stages.stages.items():
            if state.version == version or any(p.version == version for p in state.previous):
                seen.add(stage)
        return frozenset(seen)

    def latest(self) -> str | None:
        return semver.latest(self.versions)
