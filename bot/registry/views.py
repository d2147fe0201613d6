"""Read-only views of the registry: show, history (the audit log), GTO-style events."""

from __future__ import annotations

from typing import Any

from bot.registry import audit, semver, tags
from bot.registry.store import RegistryStore


def show(store: RegistryStore, model: str | None = None) -> dict[str, Any]:
    """`{"models": {name: {"versions", "latest", "stages", "deprecated"}}}` at the branch head.

    One listing of the registry tree and one batched read of the stages
    files, whatever the number of versions.
    """
    snap = store.snapshot(store.head())
    models: dict[str, Any] = {}
    for name in sorted(snap.versions):
        if model is not None and name != model:
            continue
        stages = snap.stages.get(name)
        deprecated = (
            sorted((d.version for d in stages.deprecated), key=semver.sort_key) if stages else []
        )
        active = [v for v in snap.versions[name] if v not in deprecated]
        models[name] = {
            "versions": snap.versions[name],
            "latest": semver.latest(active),
            "stages": stages.live() if stages else {},
            "deprecated": deprecated,
        }
    return {"models": models}


def history(store: RegistryStore, model: str) -> list[dict[str, Any]]:
    """Every registry event of a model, oldest first, with its audit commit.

    Events come from the tags (as `gto history` reads them); each is joined
    to the registry commit that made it, whose trailers say who asked and
    who approved.
    """
    refs = store.tags(model)
    events = sorted(
        (e for r in refs if (e := tags.parse(r)) and e.model == model),
        key=lambda e: (e.ref.tagged_at, e.counter or 0),
    )
    version_of = {e.ref.target: e.version for e in events if e.kind == "registration"}
    commits: dict[str, Any] = {}
    for info in store.log(model):
        commits.setdefault(info.subject, info)
    out = []
    for event in events:
        subject = event.ref.message.split("\n", 1)[0]
        commit = commits.get(subject)
        trailers = audit.parse_trailers(commit.message) if commit else {}
        out.append(
            {
                "timestamp": event.ref.tagged_at.isoformat(),
                "event": event.kind,
                "version": event.version or version_of.get(event.ref.target),
                "stage": event.stage,
                "tag": event.ref.name,
                "commit": commit.sha if commit else None,
                "subject": subject,
                "requested_by": (trailers.get("Requested-by") or [None])[0],
                "approved_by": trailers.get("Approved-by", []),
                "refs": trailers.get("Refs", []),
            }
        )
    return out
