"""Which commits on the default branch changed the registry without mlbot: a pure judgement.

The registry is written through mlbot only. A commit that touches
`registry/` is mlbot's when GitHub verified it and GitHub's commit author is
the App's bot account: GitHub signs what an App creates through the API and
nothing pushed, so the author *field* alone proves nothing (any git client
can write `mlbot[bot]` there). Two other writers may push, each one kind of
change only, and only as the account GitHub authenticated for the push (the
push's sender: a commit's author email is anyone's to write):

- the CI that registers versions (`registration.writers` in the policy):
  new version records, nothing modified or removed;
- a code owner of `registry/<model>/stages.yaml` (or a registration writer)
  pushing an `mlbot registry promote` to a stage whose policy says
  `allow_cli`. What decides is what the commit changed, read from
  stages.yaml before and after it, never its message (trailers are anyone's
  to write): one file, that model's stages.yaml, in which only opted-in
  stages moved, each to a registered, undeprecated version with the history
  kept as the CLI keeps it.

Neither may carry `Approved-by:` or `Command:` trailers: those say mlbot
checked approvals or ran a command, which no pushed commit can say.
Everything else is a finding: reported in a `mlbot:tamper` issue, and
promotions of the model are frozen until a code owner closes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.errors import InputError
from bot.registry import audit, plan, schema, tags
from bot.rendering import code

_RECORD = re.compile(r"^registry/(?P<model>[^/]+)/versions/[^/]+\.yaml$")
_MODEL = re.compile(r"^registry/(?P<model>[^/]+)/")
# Trailers only mlbot's own commits may carry: an approval it checked, a command it ran
# (`bot.commands.once` takes a `Command:` trailer for "already carried out").
RESERVED_TRAILERS = ("Approved-by", "Command")


@dataclass(frozen=True)
class PushedCommit:
    sha: str
    author_login: str | None  # GitHub's account for the commit's author, if it maps to one
    author_name: str  # what the commit's author field says (proves nothing)
    verified: bool
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    message: str = ""
    # The account GitHub authenticated for the push that brought the commit (the payload's
    # `sender`), the one identity of a pushed commit nobody can write for someone else.
    pusher: str | None = None

    @property
    def registry_paths(self) -> list[str]:
        return sorted(
            p for p in (*self.added, *self.modified, *self.removed) if p.startswith("registry/")
        )

    def by_mlbot(self, bot_login: str) -> bool:
        """Made by mlbot: GitHub verified it and maps its author to the App's account
        (the one identity a commit's author field cannot fake)."""
        return self.verified and (self.author_login or "").lower() == bot_login.lower()


@dataclass(frozen=True)
class Rules:
    """What one model's policy and CODEOWNERS allow besides mlbot, read where the push began."""

    writers: tuple[str, ...] = ()  # registration.writers
    cli_stages: tuple[str, ...] = ()  # stages whose promotion.<stage>.allow_cli is true
    owners: tuple[str, ...] = ()  # code owners of registry/<model>/stages.yaml
    history_limit: int = schema.HISTORY_LIMIT


@dataclass(frozen=True)
class Revisions:
    """A file's content in the commit's first parent (`before`) and in the commit (`after`);
    None for a file that is not there."""

    before: Callable[[str], bytes | None]
    after: Callable[[str], bytes | None]


@dataclass(frozen=True)
class Finding:
    commit: PushedCommit
    model: str
    paths: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Accepted:
    """A pushed commit judged allowed although mlbot did not write it."""

    commit: PushedCommit
    model: str
    kind: str  # "registration" or "cli-promotion"
    stages: tuple[str, ...] = ()


# Said by the tamper report and by a pull request's check alike.
RULE = (
    "Registry changes go through mlbot (`/promote`, `/rollback`) so that the code owners"
    " approve them and the audit log says who did."
)


def hand_edits(paths: Iterable[str], model: str) -> list[str]:
    """The files of `model`'s registry among `paths` (a pull request's changed files)."""
    return sorted(p for p in paths if (m := _MODEL.match(p)) and m["model"] == model)


def explain_pull(model: str, paths: Sequence[str]) -> str:
    """Why a pull request that edits the registry by hand is refused."""
    return (
        f"this pull request changes {', '.join(paths)} by hand, and the registry of {model}"
        f" is never changed without mlbot. {RULE}"
    )


def touches_registry(paths: Iterable[str]) -> bool:
    return any(p.startswith("registry/") for p in paths)


def models_of(paths: Iterable[str]) -> list[str]:
    return sorted({m["model"] for p in paths if (m := _MODEL.match(p))})


def judge(
    commit: PushedCommit,
    *,
    bot_login: str,
    rules: Mapping[str, Rules] | None = None,
    files: Revisions | None = None,
    accepted: list[Accepted] | None = None,
) -> list[Finding]:
    """One finding per model whose registry files the commit changed without mlbot.

    `rules`: per model, what the policy allows (a model missing from it: nothing);
    `files`: the commit's trees, read only for a commit that may be a CLI promotion
    (without them it is a finding); `accepted` collects what was allowed, and why.
    """
    paths = commit.registry_paths
    if not paths:
        return []
    if commit.by_mlbot(bot_login):
        return []
    rules = rules or {}
    by_model: dict[str, list[str]] = {}
    for path in paths:
        m = _MODEL.match(path)
        by_model.setdefault(m["model"] if m else "?", []).append(path)
    pusher = (commit.pusher or "").lower()
    reserved = [k for k in RESERVED_TRAILERS if audit.parse_trailers(commit.message).get(k)]

    findings = []
    for model, mine in sorted(by_model.items()):
        rule = rules.get(model, Rules())
        registrations = all(p in commit.added and _RECORD.match(p) for p in mine)
        if registrations and pusher and pusher in _lower(rule.writers):
            versions = {p.rsplit("/", 1)[-1].removesuffix(".yaml") for p in mine}
            why = _claims(reserved) if reserved else _stray_tags(commit, model, versions=versions)
            if why:
                findings.append(Finding(commit, model, tuple(mine), why))
            elif accepted is not None:
                accepted.append(Accepted(commit, model, "registration"))
            continue
        why = _cli_promotion(commit, model, paths, rule, files, reserved)
        if why is None:
            stages = _changed_stages(model, files) if files else ()
            why = _stray_tags(commit, model, stages=set(stages))
            if not why:
                if accepted is not None:
                    accepted.append(Accepted(commit, model, "cli-promotion", stages))
                continue
        findings.append(Finding(commit, model, tuple(mine), why or _not_mlbot(commit)))
    return findings


def _not_mlbot(commit: PushedCommit) -> str:
    if commit.verified:
        return f"it was made by {code(commit.author_login or commit.author_name)}, not by mlbot"
    return (
        "it is not a commit mlbot made (GitHub did not verify it; its author field says "
        f"{code(commit.author_name)}, which anyone can write)"
    )


def _lower(names: Iterable[str]) -> set[str]:
    return {n.lower() for n in names}


def _parse(path: str, content: bytes | None, model: str, side: str) -> schema.StagesFile:
    if content is None:
        return schema.StagesFile(model=model)
    try:
        stages = schema.parse_file(path, content, schema.StagesFile)
    except InputError as err:
        # The parser's words may quote the file: a code span, so they can never mention.
        raise _Refused(
            f"{path} {side} this commit is not a stages file mlbot can read: {code(err)}"
        ) from None
    if stages.model != model:
        raise _Refused(f"{path} {side} this commit names model {code(stages.model)}")
    return stages


class _Refused(Exception):
    """Why a commit is not an allowed CLI promotion (the finding's reason)."""


def _changed_stages(model: str, files: Revisions) -> tuple[str, ...]:
    path = schema.stages_path(model)
    try:
        old = _parse(path, files.before(path), model, "before")
        new = _parse(path, files.after(path), model, "after")
    except _Refused:
        return ()
    return tuple(s for s in new.stages if old.stages.get(s) != new.stages[s])


def _cli_promotion(
    commit: PushedCommit,
    model: str,
    paths: list[str],
    rule: Rules,
    files: Revisions | None,
    reserved: list[str],
) -> str | None:
    """None when the commit is a CLI promotion `rule` allows; else why it is a finding
    ("" for the plain "mlbot did not make it")."""
    path = schema.stages_path(model)
    if path not in paths:
        return ""
    try:
        if files is None:
            raise _Refused(f"{path} could not be read before and after the commit")
        # Parsed first, whatever else is wrong: a file the registry can no longer read is
        # what the owners most need to hear about.
        old = _parse(path, files.before(path), model, "before")
        new = _parse(path, files.after(path), model, "after")
        _promotion_shape(commit, model, paths, path, old, new, rule, files)
    except _Refused as refused:
        return f"{refused}; {_not_mlbot(commit)}"
    pusher = commit.pusher or ""
    if not pusher or pusher.lower() not in _lower(rule.owners) | _lower(rule.writers):
        return (
            f"it was pushed by {code(pusher or 'an unknown account')}, who is neither a code"
            f" owner of {path} nor a registration writer, and only they may push a CLI"
            f" promotion; {_not_mlbot(commit)}"
        )
    if reserved:
        return _claims(reserved)
    return None


def _stray_tags(
    commit: PushedCommit,
    model: str,
    *,
    versions: set[str] = frozenset(),
    stages: set[str] = frozenset(),
) -> str:
    """Why the tags the commit declares (`Mlbot-Tag:`, which mlbot creates when it reads the
    registry) are more than its change: a registration tags its own versions on itself, a
    promotion assigns the stages it moved. "" when they are not."""
    stray = []
    for spec in plan.declared_tags(commit.sha, commit.message):
        event = tags.parse(tags.TagRef(spec.name, spec.target, spec.tagged_at))
        fits = (
            event is not None
            and event.model == model
            and (
                (
                    event.kind == "registration"
                    and event.version in versions
                    and spec.target == commit.sha
                )
                or (event.kind == "assignment" and event.stage in stages)
            )
        )
        if not fits:
            stray.append(spec.name)
    if not stray:
        return ""
    return (
        f"its message declares the tag {', '.join(code(t) for t in stray)}, which its change"
        f" does not make ({code(plan.TAG_LINE + ':')} lines become GTO tags)"
    )


def _claims(reserved: list[str]) -> str:
    said = ", ".join(code(f"{k}:") for k in reserved)
    return (
        f"its message carries {said}, which only mlbot's own commits may: a pushed"
        " commit cannot say that approvals were checked or that a command ran"
    )


def _promotion_shape(
    commit: PushedCommit,
    model: str,
    paths: list[str],
    path: str,
    old: schema.StagesFile,
    new: schema.StagesFile,
    rule: Rules,
    files: Revisions,
) -> None:
    """Raise `_Refused` unless the commit changed only what `mlbot registry promote` writes
    into stages the policy opened to the CLI."""
    if paths != [path] or path in commit.removed:
        others = ", ".join(code(p) for p in paths if p != path) or code(path) + " (removed)"
        raise _Refused(
            f"it changes {others} besides {path}, and a CLI promotion changes that file only"
        )
    if new.deprecated != old.deprecated:
        raise _Refused(f"it changes the deprecations in {path}, which a promotion never does")
    gone = sorted(set(old.stages) - set(new.stages))
    if gone:
        raise _Refused(f"it removes stage {', '.join(code(s) for s in gone)} from {path}")
    changed = [s for s in new.stages if old.stages.get(s) != new.stages[s]]
    if not changed:
        raise _Refused(f"it rewrites {path} without moving any stage")
    closed = [s for s in changed if s not in rule.cli_stages]
    if closed:
        names = ", ".join(code(s) for s in closed)
        keys = ", ".join(code(f"promotion.{s}.allow_cli") for s in closed)
        raise _Refused(
            f"it changes stage {names} by hand, and the policy does not allow CLI"
            f" promotions to it ({keys} is not true)"
        )
    for stage in changed:
        _one_promotion(model, stage, old.stages.get(stage), new.stages[stage], new, rule, files)


def _one_promotion(
    model: str,
    stage: str,
    old: schema.StageState | None,
    new: schema.StageState,
    stages: schema.StagesFile,
    rule: Rules,
    files: Revisions,
) -> None:
    """`new` must be what `bot.registry.plan` writes when `stage` moves from `old`: the
    history gains the old entry, closed when the new one began, and loses nothing else."""
    if old is not None and old.version == new.version:
        raise _Refused(f"it rewrites stage {code(stage)}'s entry without promoting anything")
    expected: list[schema.StageEntry] = []
    if old is not None:
        expected = [
            schema.StageEntry(
                version=old.version, since=old.since, by=old.by, until=new.since, reason=old.reason
            ),
            *old.previous,
        ][: rule.history_limit]
    if list(new.previous) != expected:
        raise _Refused(
            f"it rewrites the history of stage {code(stage)}, which a promotion only adds to"
        )
    if stages.is_deprecated(new.version):
        raise _Refused(f"it puts deprecated {model} {code(new.version)} into {code(stage)}")
    record_path = schema.version_path(model, new.version)
    record = files.after(record_path)
    if record is None:
        raise _Refused(
            f"it puts {model} {code(new.version)}, which is not registered, into {stage}"
        )
    try:
        parsed = schema.parse_file(record_path, record, schema.VersionRecord)
    except InputError as err:
        raise _Refused(f"the version record it promotes is not readable: {code(err)}") from None
    if parsed.model != model or parsed.version != new.version:
        raise _Refused(f"{record_path} is not the record of {model} {code(new.version)}")
