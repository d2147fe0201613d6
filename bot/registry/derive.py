"""The record of a version GTO registered, derived from its tag.

A version known only from a `name@vX.Y.Z` tag is a version like any other:
its record is derived from the tag (target commit, tagger, message) and from
what the repository declared at that commit (the artifact's path in
artifacts.yaml or dvc.yaml, dvc.yaml's metrics files, params.yaml), and is
labelled by `origin`. A file of the artifact committed to git gets its real
digest; one kept elsewhere (DVC) has none, so a signature gate fails closed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

from bot.diff.metrics import flatten
from bot.registry import declarations, schema, yamlio
from bot.registry.tags import TagEvent

ReadFiles = Callable[[str, list[str]], dict[str, bytes | None]]


def _load_toml(content: bytes) -> Any:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(content.decode())


def _read_mapping(path: str, content: bytes) -> Mapping[str, Any]:
    """A metrics or params file as dvc reads it: YAML (JSON included) or TOML."""
    try:
        data = _load_toml(content) if path.endswith(".toml") else yamlio.load(content)
    except (yaml.YAMLError, ValueError, UnicodeDecodeError):
        return {}  # tomllib.TOMLDecodeError is a ValueError
    return data if isinstance(data, Mapping) else {}


def derive_record(model: str, event: TagEvent, read_files: ReadFiles) -> schema.VersionRecord:
    """The record of a version GTO registered, from its tag and the files at its commit."""
    commit = event.ref.target
    found = declarations.parse(read_files(commit, list(declarations.FILES)))
    declared = found.artifacts.get(model)
    artifact_path = declared.path if declared else None
    wanted = [p for p in [artifact_path, *found.metrics, *found.params] if p]
    contents = read_files(commit, wanted) if wanted else {}
    blob = contents.get(artifact_path) if artifact_path else None
    artifact = schema.Artifact(
        uri=artifact_path or f"git:{commit}",
        sha256=schema.digest(blob) if blob is not None else None,
        size=len(blob) if blob is not None else None,
    )
    metrics: dict[str, Any] = {}
    for path in found.metrics:
        if (content := contents.get(path)) is not None:
            # As `dvc metrics show` reads them: dotted keys, lists and nulls dropped.
            metrics.update(flatten(_read_mapping(path, content)))
    params: dict[str, Any] = {}
    for path in found.params:
        if (content := contents.get(path)) is not None:
            params.update(_read_mapping(path, content))
    return schema.VersionRecord(
        model=model,
        version=event.version or "",
        artifact=artifact,
        metrics=metrics,
        params=params,
        lineage=schema.Lineage(commit=commit),
        created_at=event.ref.tagged_at,
        created_by=event.ref.tagged_by or "unknown",
        origin=schema.Origin(
            tag=event.ref.name,
            commit=commit,
            tagger=event.ref.tagged_by or "unknown",
            tagged_at=event.ref.tagged_at,
            message=event.ref.message.strip(),
            declared_in=declared.source if declared and declared.path else None,
        ),
    )
