"""A model's registry as GTO reads it from tags alone (GTO 1.x rules, gto.base).

Pure: events in, state out. Used where mlbot has no file of its own yet (a
repository whose history GTO wrote), to check that stages.yaml and the tags
agree, and to derive the records `mlbot registry import` writes.

GTO's rules, as `gto show` applies them by default:
- a version is active while its newest registration/deregistration tag is a
  registration; "latest" is the highest SemVer among active versions;
- an assignment tag names a version through its target commit (the commit
  the version's registration tag points at);
- a (version, stage) pair is live while its newest tag is an assignment, and
  only for an active version; a stage runs the live pair assigned most
  recently;
- `name@deprecated` hides the whole artifact until a later event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.registry import schema, semver
from bot.registry.tags import TagEvent


@dataclass(frozen=True)
class Assignment:
    stage: str
    version: str
    at: dt.datetime
    by: str
    tag: str


@dataclass
class TagView:
    model: str
    registrations: dict[str, TagEvent] = field(default_factory=dict)  # version -> first tag
    deregistrations: dict[str, TagEvent] = field(default_factory=dict)  # inactive versions
    live: dict[str, str] = field(default_factory=dict)  # stage -> version
    # stage -> every assignment of a registered version, oldest first
    assignments: dict[str, list[Assignment]] = field(default_factory=dict)
    live_since: dict[str, Assignment] = field(default_factory=dict)
    deprecated: TagEvent | None = None  # the artifact, while its newest event deprecates it
    unresolved: list[TagEvent] = field(default_factory=list)  # stage tags on no version

    @property
    def versions(self) -> list[str]:
        return sorted(self.registrations, key=semver.sort_key)

    @property
    def active(self) -> list[str]:
        return [v for v in self.versions if v not in self.deregistrations]

    def latest(self) -> str | None:
        return semver.latest(self.active)

    def stage_order(self) -> list[str]:
        """Stages in the order they were first assigned."""
        return list(self.assignments)


def read(model: str, events: list[TagEvent]) -> TagView:
    view = TagView(model)
    # GTO skips lightweight tags (no tagger, no date) and orders the others by tag date; of
    # two in one second, the one of higher priority is the newer (a version's events list
    # registrations before deregistrations, a stage's assignments before unassignments, and
    # are read newest first). mlbot never writes two tags of a model in one second.
    ordered = sorted(
        (e for e in events if e.model == model and e.ref.annotated), key=lambda e: e.order
    )
    version_at: dict[str, str] = {}
    direct: dict[str, TagEvent] = {}  # version -> newest registration/deregistration
    pair: dict[tuple[str, str], TagEvent] = {}  # (version, stage) -> newest stage tag
    last_assigned: dict[tuple[str, str], Assignment] = {}
    for event in ordered:
        if event.kind == "registration" and event.version:
            view.registrations.setdefault(event.version, event)
            version_at.setdefault(event.ref.target, event.version)
            direct[event.version] = event
        elif event.kind == "deregistration" and event.version:
            direct[event.version] = event
        elif event.kind in ("assignment", "unassignment") and event.stage:
            version = version_at.get(event.ref.target)
            if version is None:
                view.unresolved.append(event)
                continue
            pair[(version, event.stage)] = event
            if event.kind == "assignment":
                entry = Assignment(
                    event.stage, version, event.ref.tagged_at, event.ref.tagged_by, event.ref.name
                )
                view.assignments.setdefault(event.stage, []).append(entry)
                last_assigned[(version, event.stage)] = entry
    view.deregistrations = {v: e for v, e in direct.items() if e.kind == "deregistration"}
    if ordered and ordered[-1].kind == "deprecation":
        view.deprecated = ordered[-1]
    for (version, stage), newest in pair.items():
        if newest.kind != "assignment" or version in view.deregistrations:
            continue
        entry = last_assigned[(version, stage)]
        best = view.live_since.get(stage)
        if best is None or entry.at >= best.at:
            view.live_since[stage] = entry
    view.live = {stage: entry.version for stage, entry in view.live_since.items()}
    return view


def stages_file(view: TagView, limit: int = schema.HISTORY_LIMIT) -> schema.StagesFile | None:
    """stages.yaml as it would read had mlbot made every change the tags record.

    Each stage's history is its assignments, newest first, each closed by the
    next one, so a rollback reaches the versions GTO had there before.
    """
    stages: dict[str, schema.StageState] = {}
    for stage, current in view.live_since.items():
        entries = view.assignments[stage]
        previous = []
        for i, entry in enumerate(entries):
            if entry is current:
                continue
            until = entries[i + 1].at if i + 1 < len(entries) else current.at
            previous.append(
                schema.StageEntry(version=entry.version, since=entry.at, by=entry.by, until=until)
            )
        previous.reverse()
        stages[stage] = schema.StageState(
            version=current.version, since=current.at, by=current.by, previous=previous[:limit]
        )
    deprecated = [
        schema.Deprecation(
            version=version,
            at=event.ref.tagged_at,
            by=event.ref.tagged_by,
            reason=event.ref.message.strip().split("\n", 1)[0] or None,
        )
        for version, event in sorted(view.deregistrations.items(), key=lambda i: i[1].order)
    ]
    if not stages and not deprecated:
        return None
    return schema.StagesFile(model=view.model, stages=stages, deprecated=deprecated)
