"""Planning a registry change: pure functions from a model's state to a Change.

Nothing here touches git: a backend reads the state, a plan function says
which files and tags one commit must carry, and the backend writes it
atomically (compare-and-swap on the branch head).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.errors import InputError, Refused
from bot.registry import audit, schema, semver, tags
from bot.registry.state import ModelState

NEW_COMMIT = ""  # a TagSpec target meaning "the commit this change creates"
# A body line per planned tag, so the commit alone can recreate its tags: over the GitHub
# API the branch update is the only atomic step, and tags created after it may fail.
TAG_LINE = "Mlbot-Tag"


@dataclass(frozen=True)
class TagSpec:
    name: str
    target: str  # commit sha, or NEW_COMMIT
    message: str
    tagged_at: dt.datetime


def tag_line(spec: TagSpec) -> str:
    """`Mlbot-Tag: <name> <target or HEAD> <unix time>[ sha256:<record digest>]`."""
    line = f"{TAG_LINE}: {spec.name} {spec.target or 'HEAD'} {int(spec.tagged_at.timestamp())}"
    digest = tags.record_digest(spec.message)
    return f"{line} sha256:{digest}" if digest else line


def _tag_message(subject: str, digest: str | None) -> str:
    if digest is None:
        return subject
    return f"{subject}\n\n{tags.RECORD_DIGEST_KEY}: {digest}\n"


def declared_tags(commit: str, message: str) -> list[TagSpec]:
    """The tags a registry commit planned (its `Mlbot-Tag` lines), targets resolved."""
    subject = message.split("\n", 1)[0]
    found = []
    for line in message.splitlines()[1:]:
        key, sep, value = line.partition(": ")
        if not sep or key != TAG_LINE:
            continue
        fields = value.split()
        if len(fields) not in (3, 4) or not fields[2].isdigit():
            continue
        name, target, when = fields[:3]
        digest = fields[3].removeprefix("sha256:") if len(fields) == 4 else None
        found.append(
            TagSpec(
                name=name,
                target=commit if target == "HEAD" else target,
                message=_tag_message(subject, digest),
                tagged_at=dt.datetime.fromtimestamp(int(when), tz=dt.timezone.utc),
            )
        )
    return found


@dataclass(frozen=True)
class Change:
    action: str
    model: str
    version: str
    stage: str | None
    files: dict[str, bytes]
    message: str
    tags: tuple[TagSpec, ...]
    # For a stage change, the version the stage ran before (the demoted one).
    previous: str | None = None


def tag_times(state: ModelState, now: dt.datetime, count: int) -> list[dt.datetime]:
    """Strictly increasing whole seconds after every tag the model has.

    GTO orders events by the tagger timestamp at one-second resolution, so
    two events of one model must never share a second.
    """
    start = now.replace(microsecond=0)
    last = state.last_tagged_at()
    if last is not None and start <= last:
        start = last.replace(microsecond=0) + dt.timedelta(seconds=1)
    return [start + dt.timedelta(seconds=i) for i in range(count)]


def subject(action: str, model: str, version: str, stage: str | None = None) -> str:
    """The commit subject of a registry change (`registry: promote fraud v1.4.0 to production`)."""
    return _subject(action, model, version, stage)


def _subject(action: str, model: str, version: str, stage: str | None = None) -> str:
    where = f" to {stage}" if stage and action in {"promote", "rollback"} else ""
    if action == "rollback":
        return f"registry: roll back {model} {stage} to {version}"
    return f"registry: {action} {model} {version}{where}"


def plan_register(
    state: ModelState,
    record: schema.VersionRecord,
    audit_info: audit.Audit,
    now: dt.datetime,
) -> Change:
    version = record.version
    if version in state.versions:
        raise Refused(
            f"{state.model} {version} is already registered; versions are immutable, "
            "register a new one."
        )
    if state.registration_commit(version) is not None:
        raise Refused(f"tag {tags.registration(state.model, version)} already exists.")
    content = schema.dump(record)
    (when,) = tag_times(state, now, 1)
    subject = _subject("register", state.model, version)
    tag_msg = _tag_message(subject, schema.digest(content))
    spec = TagSpec(tags.registration(state.model, version), NEW_COMMIT, tag_msg, when)
    msg = audit.message(subject, audit_info, [f"Artifact: {record.artifact.uri}", tag_line(spec)])
    return Change(
        action="register",
        model=state.model,
        version=version,
        stage=None,
        files={schema.version_path(state.model, version): content},
        message=msg,
        tags=(spec,),
    )


def choose_version(state: ModelState, requested: str | None, bump: semver.Bump) -> str:
    if requested is None:
        return semver.next_version(state.versions, bump)
    semver.parse(requested)
    return requested


def _require_version(state: ModelState, version: str) -> str:
    semver.parse(version)
    if version not in state.versions:
        known = ", ".join(state.versions[-5:]) or "none"
        raise InputError(f"{state.model} has no version {version} (latest: {known}).")
    commit = state.registration_commit(version)
    if commit is None:
        raise Refused(
            f"{state.model} {version} has a record but no tag "
            f"{tags.registration(state.model, version)}: fetch tags (`git fetch --tags`) "
            "or run `mlbot registry check`."
        )
    return commit


def _stages_with(
    state: ModelState,
    stage: str,
    version: str,
    actor: str,
    now: dt.datetime,
    limit: int,
    reason: str | None = None,
) -> schema.StagesFile:
    current = state.stages or schema.StagesFile(model=state.model)
    stages = dict(current.stages)
    old = stages.get(stage)
    previous: list[schema.StageEntry] = []
    if old is not None:
        closed = schema.StageEntry(
            version=old.version, since=old.since, by=old.by, until=now, reason=old.reason
        )
        previous = [closed, *old.previous][:limit]
    stages[stage] = schema.StageState(
        version=version, since=now, by=actor, reason=reason, previous=previous
    )
    return current.model_copy(update={"stages": stages})


def plan_promote(
    state: ModelState,
    version: str,
    stage: str,
    audit_info: audit.Audit,
    now: dt.datetime,
    history_limit: int = schema.HISTORY_LIMIT,
) -> Change:
    commit = _require_version(state, version)
    if state.live.get(stage) == version:
        raise Refused(f"{state.model} {version} is already live in {stage}.")
    require_record(state, version)
    stages = _stages_with(state, stage, version, audit_info.requested_by, now, history_limit)
    counter = tags.next_counter(state.events)
    (when,) = tag_times(state, now, 1)
    subject = _subject("promote", state.model, version, stage)
    spec = TagSpec(tags.assignment(state.model, stage, counter), commit, subject, when)
    return Change(
        action="promote",
        model=state.model,
        version=version,
        stage=stage,
        files={schema.stages_path(state.model): schema.dump(stages)},
        message=audit.message(subject, audit_info, [tag_line(spec)]),
        tags=(spec,),
        previous=state.live.get(stage),
    )


class NotLiveBefore(Refused):
    """A rollback's `to` names a version that never ran in that stage: that is a promotion."""

    def __init__(self, model: str, version: str, stage: str) -> None:
        self.model, self.version, self.stage = model, version, stage
        super().__init__(
            f"{model} {version} was never live in {stage}, so going to it is not a rollback "
            f"but a promotion, and every promotion gate applies: "
            f"`/promote {model} {version} to {stage}`."
        )


def was_live(state: ModelState, stage: str, version: str) -> bool:
    """Whether `version` ran in `stage` before: in stages.yaml's history or a GTO tag."""
    current = (state.stages.stages if state.stages else {}).get(stage)
    if current is not None and any(p.version == version for p in current.previous):
        return True
    registered = state.registration_commit(version)
    return registered is not None and any(
        e.kind == "assignment" and e.stage == stage and e.ref.target == registered
        for e in state.events
    )


def rollback_target(state: ModelState, stage: str, to: str | None) -> tuple[str, str]:
    """(live version, version to restore) for a rollback of `stage`.

    Without `to`: the newest earlier entry of the stage's history that is not the live
    version and not deprecated. With `to`: a version that was live in that stage before
    and is not deprecated; anything else is a promotion (`NotLiveBefore`).
    """
    current = (state.stages.stages if state.stages else {}).get(stage)
    if current is None:
        raise Refused(f"{state.model} has no version in {stage} to roll back.")
    deprecated = state.stages.is_deprecated if state.stages else (lambda _v: False)
    if to is not None:
        semver.parse(to)
        if to == current.version:
            raise Refused(f"{state.model} {to} is already live in {stage}.")
        if deprecated(to):
            raise Refused(
                f"{state.model} {to} is deprecated; a rollback never restores a deprecated "
                "version. Roll back to another one, or register a new version."
            )
        if not was_live(state, stage, to):
            raise NotLiveBefore(state.model, to, stage)
        return current.version, to
    for entry in current.previous:
        if entry.version != current.version and not deprecated(entry.version):
            return current.version, entry.version
    raise Refused(
        f"{state.model} {stage} has no previous version to roll back to; name one with --to."
    )


def require_record(state: ModelState, version: str) -> schema.VersionRecord:
    """The version's record, parsed: a write never points at a file it has not validated."""
    return state.record(version)


def plan_rollback(
    state: ModelState,
    stage: str,
    to: str | None,
    audit_info: audit.Audit,
    now: dt.datetime,
    history_limit: int = schema.HISTORY_LIMIT,
) -> Change:
    live, target = rollback_target(state, stage, to)
    commit = _require_version(state, target)
    require_record(state, target)
    demoted_commit = state.registration_commit(live)
    stages = _stages_with(
        state, stage, target, audit_info.requested_by, now, history_limit, audit_info.reason
    )
    counter = tags.next_counter(state.events)
    subject = _subject("rollback", state.model, target, stage)
    specs = []
    first, second = tag_times(state, now, 2)
    if demoted_commit is not None:
        specs.append(
            TagSpec(tags.unassignment(state.model, stage, counter), demoted_commit, subject, first)
        )
        counter += 1
    specs.append(TagSpec(tags.assignment(state.model, stage, counter), commit, subject, second))
    return Change(
        action="rollback",
        model=state.model,
        version=target,
        stage=stage,
        files={schema.stages_path(state.model): schema.dump(stages)},
        message=audit.message(
            subject, audit_info, [f"Demoted: {live}", *(tag_line(t) for t in specs)]
        ),
        tags=tuple(specs),
        previous=live,
    )


def plan_deprecate(
    state: ModelState, version: str, audit_info: audit.Audit, now: dt.datetime
) -> Change:
    commit = _require_version(state, version)
    live_in = [s for s, v in state.live.items() if v == version]
    if live_in:
        raise Refused(
            f"{state.model} {version} is live in {', '.join(live_in)}; "
            "promote or roll back another version there first."
        )
    current = state.stages or schema.StagesFile(model=state.model)
    if current.is_deprecated(version):
        raise Refused(f"{state.model} {version} is already deprecated.")
    entry = schema.Deprecation(
        version=version, at=now, by=audit_info.requested_by, reason=audit_info.reason
    )
    updated = current.model_copy(update={"deprecated": [*current.deprecated, entry]})
    (when,) = tag_times(state, now, 1)
    subject = _subject("deprecate", state.model, version)
    spec = TagSpec(tags.deregistration(state.model, version), commit, subject, when)
    return Change(
        action="deprecate",
        model=state.model,
        version=version,
        stage=None,
        files={schema.stages_path(state.model): schema.dump(updated)},
        message=audit.message(subject, audit_info, [tag_line(spec)]),
        tags=(spec,),
    )
