"""Artifact declarations other tools keep in a repository: GTO's artifacts.yaml, dvc.yaml.

    # artifacts.yaml (GTO)                 # dvc.yaml (DVC 3)
    churn:                                 artifacts:
      type: model                            churn:
      path: models/churn.pkl                   path: models/churn.pkl
      description: ...                         type: model
                                           metrics: [metrics.json]
                                           params: [params.yaml]

Pure parsing; a file that does not parse declares nothing (GTO and DVC
report it themselves) rather than blocking a registry read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from bot.registry import yamlio

ARTIFACTS_YAML = "artifacts.yaml"
DVC_YAML = "dvc.yaml"
PARAMS_YAML = "params.yaml"
FILES = (ARTIFACTS_YAML, DVC_YAML, PARAMS_YAML)


@dataclass(frozen=True)
class Declaration:
    name: str
    path: str | None
    type: str | None
    description: str | None
    source: str  # the file that declares it


@dataclass(frozen=True)
class Declarations:
    artifacts: dict[str, Declaration]
    metrics: tuple[str, ...]  # dvc.yaml's top-level metrics files and stage metrics outputs
    params: tuple[str, ...]  # params files dvc reads (params.yaml when present)


def _load(content: bytes | None) -> Mapping:
    if not content:
        return {}
    try:
        data = yamlio.load(content)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, Mapping) else {}


def _artifact(name: str, body: object, source: str) -> Declaration | None:
    if not isinstance(body, Mapping):
        return None
    path = body.get("path")
    return Declaration(
        name=name,
        path=str(path) if path else None,
        type=str(body["type"]) if body.get("type") else None,
        description=str(body.get("description") or body.get("desc") or "") or None,
        source=source,
    )


def _paths(entries: object) -> list[str]:
    """Paths from a dvc.yaml list whose items are strings or one-key mappings."""
    out = []
    for item in entries if isinstance(entries, list) else []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Mapping) and len(item) == 1:
            out.append(str(next(iter(item))))
    return out


def parse(files: Mapping[str, bytes | None]) -> Declarations:
    """Declarations from the contents of artifacts.yaml, dvc.yaml and params.yaml."""
    artifacts: dict[str, Declaration] = {}
    dvc = _load(files.get(DVC_YAML))
    listed = dvc.get("artifacts")
    for name, body in (listed if isinstance(listed, Mapping) else {}).items():
        if found := _artifact(str(name), body, DVC_YAML):
            artifacts[found.name] = found
    # GTO's own index wins where both declare a name: it is what `gto` reads.
    for name, body in _load(files.get(ARTIFACTS_YAML)).items():
        if found := _artifact(str(name), body, ARTIFACTS_YAML):
            artifacts[found.name] = found
    metrics = _paths(dvc.get("metrics"))
    stages = dvc.get("stages")
    for stage in (stages if isinstance(stages, Mapping) else {}).values():
        if isinstance(stage, Mapping):
            metrics += [p for p in _paths(stage.get("metrics")) if p not in metrics]
    params = [PARAMS_YAML] if files.get(PARAMS_YAML) is not None else []
    return Declarations(artifacts, tuple(dict.fromkeys(metrics)), tuple(params))
