"""Read-only views of the registry: show, history (the audit log), GTO-style events."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bot.registry import audit, semver, tags
from bot.registry.state import ModelState
from bot.registry.store import RegistryStore


def _events_by_model(refs: list[tags.TagRef]) -> dict[str, list[tags.TagEvent]]:
    found: dict[str, list[tags.TagEvent]] = defaultdict(list)
    for ref in refs:
        if event := tags.parse(ref):
            found[event.model].append(event)
    for events in found.values():
        events.sort(key=lambda e: e.order)
    return found


def show(
    store: RegistryStore, model: str | None = None, *, deprecated: bool = False
) -> dict[str, Any]:
    """`{"models": {name: {"versions", "latest", "stages", "deprecated", "from_tags"}}}`.

    Read at the branch head: one listing of the registry tree, one batched
    read of the stages files and one listing of the tags, whatever the number
    of versions. Versions GTO registered count (`from_tags` names those with
    no record yet); a model without stages.yaml shows the stages its tags
    give by GTO's rules. As `gto show` does, a model whose newest tag is
    `name@deprecated` is left out unless `deprecated` is asked for.
    """
    snap = store.snapshot(store.head())
    events = _events_by_model(store.tags(model))
    models: dict[str, Any] = {}
    for name in sorted(set(snap.versions) | set(events)):
        if model is not None and name != model:
            continue
        broken = name in snap.stages and snap.stages[name] is None
        state = ModelState(
            name,
            snap.head,
            list(snap.versions.get(name, [])),
            snap.stages.get(name),
            [] if broken else events.get(name, []),
            on_branch=store.on_branch,
        )
        hidden = state.tag_view.deprecated is not None and not state.stages
        if hidden and not deprecated:
            continue
        stages = state.stages
        gone = sorted((d.version for d in stages.deprecated), key=semver.sort_key) if stages else []
        models[name] = {
            "versions": state.versions,
            "latest": semver.latest(v for v in state.versions if v not in gone),
            "stages": stages.live() if stages else {},
            "deprecated": gone,
            "from_tags": sorted(state.from_tags, key=semver.sort_key),
            "active": not hidden,
        }
    return {"models": models}


def history(store: RegistryStore, model: str) -> list[dict[str, Any]]:
    """Every registry event of a model, oldest first, as `gto history --json` reads it.

    The fields GTO gives (`commit` is the tag's target, `author` the tagger,
    `ref` the tag) come first; mlbot's follow: the registry commit that made
    the event, whose trailers say who asked and who approved. An event GTO
    wrote has no registry commit: who asked is the tagger.
    """
    events = _events_by_model(store.tags(model)).get(model, [])
    version_of = {e.ref.target: e.version for e in events if e.kind == "registration"}
    commits: dict[str, Any] = {}
    for info in store.log(model):
        commits.setdefault(info.subject, info)
    out = []
    for event in events:
        message = event.ref.message.strip()
        subject = message.split("\n", 1)[0]
        commit = commits.get(subject) if subject.startswith("registry: ") else None
        trailers = audit.parse_trailers(commit.message) if commit else {}
        version = event.version or (version_of.get(event.ref.target) if event.stage else None)
        out.append(
            {
                "timestamp": event.ref.tagged_at.isoformat(),
                "artifact": model,
                "event": event.kind,
                "priority": tags.PRIORITY[event.kind],
                "version": version,
                "stage": event.stage,
                "commit": event.ref.target,
                "author": event.ref.tagger,
                "author_email": event.ref.tagger_email,
                "message": message,
                "ref": event.ref.name,
                "tag": event.ref.name,
                "registry_commit": commit.sha if commit else None,
                "subject": subject,
                "requested_by": (trailers.get("Requested-by") or [event.ref.tagged_by or None])[0],
                "approved_by": trailers.get("Approved-by", []),
                "claimed_approval_by": trailers.get("Claimed-approval-by", []),
                "refs": trailers.get("Refs", []),
            }
        )
    return out
