"""A model's registry state at one commit: plain data read by a backend.

Versions are those with a record file and those GTO registered with a tag
only (`from_tags`; their records are derived from the tags). Where the model
has no stages.yaml yet, its stages are read from the tags by GTO's rules
(`stages_from_tags`), history included, so the first mlbot write keeps it.

A tag needs no review, a commit on the branch does: a version known only
from a tag counts only when its commit is on the branch (`on_branch`), so a
tag pushed on an unmerged commit registers nothing (`off_branch` names them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from bot.registry import derive, gto_view, semver, tags
from bot.registry.schema import StagesFile, VersionRecord


@dataclass
class ModelState:
    model: str
    head: str | None  # the branch commit this state was read at
    versions: list[str]  # version names, in SemVer order (record files and GTO tags)
    stages: StagesFile | None
    events: list[tags.TagEvent]  # this model's tags, oldest first
    load_record: Callable[[str], VersionRecord] = field(repr=False, default=None)  # type: ignore[assignment]
    # A backend that knows the newest tag date without reading every tag (GitHub: from
    # the commits' Mlbot-Tag lines) says so here, so the timestamp rule costs no extra call.
    last_tag_time: Callable[[], dt.datetime | None] | None = field(repr=False, default=None)
    # Reads files at any commit: what a record derived from a GTO tag is read from.
    read_files: derive.ReadFiles | None = field(repr=False, default=None)
    # Which of some commits the branch head contains; None (plain data in tests): all.
    on_branch: Callable[[str, list[str]], set[str]] | None = field(repr=False, default=None)
    from_tags: frozenset[str] = field(init=False, default=frozenset())
    off_branch: tuple[tags.TagEvent, ...] = field(init=False, default=())
    stages_from_tags: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        # Decided from tag names alone: a backend that fetches tag objects lazily (GitHub)
        # fetches none for a registry mlbot wrote, where every tag has its record.
        recorded = set(self.versions)
        tag_only = [
            e
            for e in self.events
            if e.kind == "registration" and e.ref.annotated and e.version not in recorded
        ]
        if tag_only and self.on_branch is not None:
            targets = sorted({e.ref.target for e in tag_only})
            reachable = self.on_branch(self.head, targets) if self.head else set()
            self.off_branch = tuple(e for e in tag_only if e.ref.target not in reachable)
            if self.off_branch:
                dropped = {id(e) for e in self.off_branch}
                self.events = [e for e in self.events if id(e) not in dropped]
                tag_only = [e for e in tag_only if id(e) not in dropped]
        self.from_tags = frozenset(e.version for e in tag_only if e.version)
        if self.from_tags:
            self.versions = sorted([*self.versions, *self.from_tags], key=semver.sort_key)
        if self.stages is None and any(e.kind != "registration" for e in self.events):
            self.stages = gto_view.stages_file(self.tag_view)
            self.stages_from_tags = self.stages is not None
        self._derived: dict[str, VersionRecord] = {}

    @cached_property
    def tag_view(self) -> gto_view.TagView:
        """The model as `gto show` reads it from the tags alone."""
        return gto_view.read(self.model, self.events)

    def record(self, version: str) -> VersionRecord:
        if version in self.from_tags and self.read_files is not None:
            if version not in self._derived:
                event = self.tag_view.registrations[version]
                self._derived[version] = derive.derive_record(self.model, event, self.read_files)
            return self._derived[version]
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

    def next_stage(self, order: Sequence[str], version: str) -> str | None:
        """The first stage of `order` the version has not been in yet (a promotion's default)."""
        history = self.stage_history(version)
        return next((stage for stage in order if stage not in history), None)

    def latest(self) -> str | None:
        return semver.latest(self.versions)
