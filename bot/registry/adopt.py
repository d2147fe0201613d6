"""`mlbot registry import`: records for the versions GTO registered, in one commit.

Every version known only from a tag gets the record `derive` reads from it,
and a model with no stages.yaml gets the one its tags say (GTO's rules, with
the GTO-era history, so a rollback reaches it). No tag is created or moved:
`gto show` reads the repository exactly as before.
"""

from __future__ import annotations

from bot.errors import Conflict
from bot.registry import audit, schema, semver
from bot.registry.plan import Change
from bot.registry.state import ModelState
from bot.registry.store import Identity, RegistryStore, StaleHead
from bot.registry.tags import TagEvent, parse

MAX_ATTEMPTS = 5


def plan_import(states: list[ModelState], audit_info: audit.Audit) -> Change | None:
    """One commit with a record for every tag-only version, or None if there is none."""
    files: dict[str, bytes] = {}
    body = []
    models = []
    for state in states:
        imported = sorted(state.from_tags, key=semver.sort_key)
        for version in imported:
            record = state.record(version)
            files[schema.version_path(state.model, version)] = schema.dump(record)
            body.append(f"Imported: {record.origin.tag if record.origin else version}")
        if state.stages_from_tags and state.stages is not None:
            files[schema.stages_path(state.model)] = schema.dump(state.stages)
        if imported or state.stages_from_tags:
            models.append(state.model)
    if not files:
        return None
    count = sum(1 for p in files if "/versions/" in p)
    subject = f"registry: import {count} GTO version(s) of {', '.join(models)}"
    return Change(
        action="import",
        model=", ".join(models),
        version="",
        stage=None,
        files=files,
        message=audit.message(subject, audit_info, body),
        tags=(),
    )


def tagged_models(events: list[TagEvent]) -> list[str]:
    return sorted({e.model for e in events})


def import_tags(
    store: RegistryStore, author: Identity, audit_info: audit.Audit
) -> tuple[Change | None, str | None]:
    """Write the import commit (compare-and-swap, re-planned if the branch moves)."""
    for _ in range(MAX_ATTEMPTS):
        head = store.head()
        events = [e for ref in store.tags() if (e := parse(ref))]
        states = [store.read_model(model, head) for model in tagged_models(events)]
        change = plan_import(states, audit_info)
        if change is None:
            return None, None
        try:
            return change, store.write(head, change, author)
        except StaleHead:
            continue
    raise Conflict("the registry branch kept moving; nothing was imported, try again.")
