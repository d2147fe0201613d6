"""`mlbot registry check`: what can be wrong with a registry, each problem named with its file.

Findings of level "info" are not problems: a version GTO registered that has
no record yet (its record is derived from the tag until `mlbot registry
import` writes it), a registry file not committed yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.errors import InputError
from bot.registry import derive, gto_view, plan, schema, semver, tags, yamlio
from bot.registry.schema import VersionRecord
from bot.registry.store import RegistryStore


@dataclass(frozen=True)
class Problem:
    where: str
    what: str
    level: Literal["error", "info"] = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def errors(found: list[Problem]) -> list[Problem]:
    return [p for p in found if p.level == "error"]


def _worktree_files(root: Path) -> dict[str, bytes]:
    base = root / "registry"
    if not base.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(base.rglob("*"))
        if path.is_file()
    }


def check(store: RegistryStore, worktree: Path | None = None) -> list[Problem]:
    """Every finding about the registry at the branch head, or (`worktree`) as on disk.

    In the working tree, the files under registry/ are checked as they are
    on disk, and each one that differs from HEAD is named.
    """
    head = store.head()
    problems: list[Problem] = []
    if worktree is not None:
        contents: dict[str, bytes | None] = dict(_worktree_files(worktree))
        uncommitted = getattr(store, "uncommitted", lambda prefix: [])("registry/")
        for path in uncommitted:
            state = "deleted on disk" if path not in contents else "not committed"
            problems.append(
                Problem(
                    path,
                    f"{state}: checked as it is on disk (`--committed` checks HEAD only).",
                    "info",
                )
            )
    elif head is None:
        return []
    else:
        paths = store.list_files(head, "registry/")
        contents = store.read_files(head, paths)
    versions: dict[str, dict[str, bytes]] = defaultdict(dict)
    stages: dict[str, schema.StagesFile] = {}

    for path, content in contents.items():
        parts = path.split("/")
        if len(parts) == 4 and parts[2] == "versions":
            model, name = parts[1], parts[3].removesuffix(".yaml")
            if not parts[3].endswith(".yaml") or not semver.is_version(name):
                problems.append(Problem(path, "not a version record (expected vX.Y.Z.yaml)."))
                continue
            try:
                record = schema.parse_file(path, content or b"", VersionRecord)
            except InputError as err:
                problems.append(Problem(path, str(err).removeprefix(f"{path} ")))
                continue
            if record.model != model or record.version != name:
                problems.append(
                    Problem(
                        path,
                        f"says {record.model} {record.version}, but its path says {model} {name}.",
                    )
                )
            versions[model][name] = content or b""
        elif len(parts) == 3 and parts[2] == "stages.yaml":
            try:
                stages[parts[1]] = schema.parse_file(path, content or b"", schema.StagesFile)
            except InputError as err:
                problems.append(Problem(path, str(err).removeprefix(f"{path} ")))

    refs = store.tags()
    problems += [
        Problem(
            f"tag {ref.name}",
            "is a GTO tag mlbot does not read: mlbot's model names are lowercase letters, "
            "digits and '-', its stage names start with a letter (and `@created` is no event).",
            "info",
        )
        for ref in refs
        if tags.unread_gto_tag(ref.name)
    ]
    registered = {
        (e.model, e.version) for r in refs if (e := tags.parse(r)) and e.kind == "registration"
    }
    for model, file in stages.items():
        path = schema.stages_path(model)
        for stage, state in file.stages.items():
            for entry in [state, *state.previous]:
                recorded = entry.version in versions.get(model, {})
                if not recorded and (model, entry.version) not in registered:
                    problems.append(
                        Problem(path, f"{stage} names {entry.version}, which has no record.")
                    )

    problems += _check_tags(store, head, refs, versions, stages)
    problems += _check_declared_tags(store, refs)
    return problems


def _check_declared_tags(store: RegistryStore, refs: list[tags.TagRef]) -> list[Problem]:
    """Every tag a registry commit declares (Mlbot-Tag lines) exists, on the declared target.

    Over the GitHub API tags are created after the branch moves; a write cut short
    leaves a commit without some of its tags until the next read creates them. One
    log of the whole registry, oldest last: one git process however many models.
    """
    by_name = {ref.name: ref for ref in refs}
    problems = []
    for info in store.log(None):
        for spec in plan.declared_tags(info.sha, info.message):
            ref = by_name.get(spec.name)
            where = f"commit {info.sha[:12]}"
            model = spec.name.split("@")[0].split("#")[0]
            if ref is None:
                problems.append(
                    Problem(
                        where,
                        f"declares tag {spec.name}, which does not exist yet (the write was "
                        f"cut short; the next registry read of {model} through the bot "
                        "creates it).",
                    )
                )
            elif ref.target != spec.target:
                problems.append(
                    Problem(
                        where,
                        f"declares tag {spec.name} on {spec.target[:12]}, but it points at "
                        f"{ref.target[:12]}.",
                    )
                )
    return problems


def _check_tags(
    store: RegistryStore,
    head: str | None,
    refs: list[tags.TagRef],
    versions: dict[str, dict[str, bytes]],
    stages: dict[str, schema.StagesFile],
) -> list[Problem]:
    problems: list[Problem] = []
    branch = getattr(store, "branch", None) or "the branch"
    events: dict[str, list[tags.TagEvent]] = defaultdict(list)
    for ref in refs:
        event = tags.parse(ref)
        if event is None:
            continue
        if not ref.annotated:
            problems.append(
                Problem(f"tag {ref.name}", "is a lightweight tag; GTO needs annotated.")
            )
        events[event.model].append(event)

    for model in sorted(set(versions) | set(events)):
        model_events = sorted(events[model], key=lambda e: (e.ref.tagged_at, e.counter or 0))
        registered = {e.version: e for e in model_events if e.kind == "registration"}
        by_commit: dict[str, list[str]] = defaultdict(list)
        for e in registered.values():
            by_commit[e.ref.target].append(e.version or "")
        for commit, names in by_commit.items():
            if len(names) > 1:
                problems.append(
                    Problem(f"commit {commit[:12]}", f"carries two {model} versions: {names}.")
                )
        files = versions.get(model, {})
        for name in sorted(set(files) - set(registered), key=semver.sort_key):
            problems.append(
                Problem(schema.version_path(model, name), f"has no tag {model}@{name}.")
            )
        tag_only = sorted(set(registered) - set(files), key=semver.sort_key)
        targets = sorted({registered[n].ref.target for n in tag_only})
        reachable = store.on_branch(head, targets) if head and targets else set()
        for name in tag_only:
            event = registered[name]
            if not event.ref.annotated:  # GTO ignores it, and so does mlbot
                problems.append(
                    Problem(f"tag {model}@{name}", "has no version record at the head.")
                )
                continue
            if event.ref.target not in reachable:
                problems.append(
                    Problem(
                        f"tag {event.ref.name}",
                        f"registers {model} {name} at commit {event.ref.target[:12]}, which is "
                        f"not on {branch}: mlbot does not read it (a tag needs no review; merge "
                        "the commit, or delete the tag).",
                    )
                )
                model_events = [e for e in model_events if e is not event]
                continue
            problems.append(
                Problem(
                    f"tag {registered[name].ref.name}",
                    f"registers {model} {name}, which has no record yet: it is read from "
                    "the tag (`mlbot registry import` writes its record).",
                    "info",
                )
            )
        for name, content in files.items():
            # An imported record is immutable too: it must still read as derived from its tag.
            event = registered.get(name)
            if event is None or _origin(content) is None:
                continue
            derived = schema.dump(derive.derive_record(model, event, store.read_files))
            if content != derived:
                problems.append(
                    Problem(
                        schema.version_path(model, name),
                        f"differs from the record derived from tag {event.ref.name} when it was "
                        "imported; version records are immutable.",
                    )
                )
        # Unedited since registration: the digest in the tag, else the file at the tag.
        originals = {}
        missing_digest = [
            n
            for n in files
            if n in registered and tags.record_digest(registered[n].ref.message) is None
        ]
        for name in missing_digest:
            path = schema.version_path(model, name)
            originals[name] = store.read_files(registered[name].ref.target, [path])[path]
        for name, content in files.items():
            if name not in registered:
                continue
            expected = tags.record_digest(registered[name].ref.message)
            if expected is not None:
                edited = schema.digest(content) != expected
            else:
                edited = originals.get(name) is not None and originals[name] != content
            if edited:
                problems.append(
                    Problem(
                        schema.version_path(model, name),
                        "was edited after registration (its digest differs from the one in "
                        f"tag {model}@{name}); version records are immutable.",
                    )
                )
        problems += _check_stage_tags(model, model_events, registered, stages.get(model))
    return problems


def _origin(content: bytes) -> dict | None:
    try:
        data = yamlio.load(content)
    except Exception:  # an unreadable record is reported by the schema check
        return None
    origin = data.get("origin") if isinstance(data, dict) else None
    return origin if isinstance(origin, dict) else None


def _check_stage_tags(
    model: str,
    events: list[tags.TagEvent],
    registered: dict[str | None, tags.TagEvent],
    stages: schema.StagesFile | None,
) -> list[Problem]:
    """stages.yaml and the tags agree on what each stage runs, as `gto show` reads the tags."""
    view = gto_view.read(model, events)
    problems = [
        Problem(
            f"tag {e.ref.name}",
            f"assigns {e.stage} to commit {e.ref.target[:12]}, where no {model} version is "
            "registered; mlbot ignores it (register a version at that commit).",
        )
        for e in view.unresolved
    ]
    if stages is None:
        return problems  # the stages are read from the tags themselves
    by_tags: dict[str, str | None] = dict(view.live)
    live = stages.live()
    for stage in sorted(set(by_tags) | set(live)):
        if by_tags.get(stage) != live.get(stage):
            problems.append(
                Problem(
                    schema.stages_path(model),
                    f"says {stage} runs {live.get(stage) or 'nothing'}, but the tags say "
                    f"{by_tags.get(stage) or 'nothing'}.",
                )
            )
    # A `gto deprecate NAME VERSION` after adoption deregisters what stages.yaml still offers.
    deprecated = {d.version for d in stages.deprecated}
    for version in sorted(set(view.deregistrations) ^ deprecated, key=semver.sort_key):
        if version not in view.registrations:
            continue  # a version without a tag is reported above
        if version in deprecated:
            what = f"says {version} is deprecated, but no tag {model}@{version}! says so"
        else:
            what = f"does not say {version} is deprecated, but tag {model}@{version}! does"
        problems.append(Problem(schema.stages_path(model), f"{what} (gto reads the tags)."))
    return problems
