"""Versioned schemas of the files under `registry/<model>/` (schema: mlbot/v1).

A version record is written once and never edited. `stages.yaml` is the one
mutable file per model: which version each stage runs, since when, by whom,
and what ran before, so one read answers "what is live and what was before".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot import documents
from bot.errors import InputError
from bot.registry import semver, yamlio
from bot.registry.names import MODEL_NAME, STAGE_NAME
from bot.supply_chain.evidence import ScanEvidence, SignatureEvidence

SCHEMA = "mlbot/v1"
HISTORY_LIMIT = 20


def version_path(model: str, version: str) -> str:
    return f"registry/{model}/versions/{version}.yaml"


def stages_path(model: str) -> str:
    return f"registry/{model}/stages.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _check_version(value: str) -> str:
    if not semver.is_version(value):
        raise ValueError(f"{value!r} is not a version like v1.2.3")
    return value


Version = Annotated[str, AfterValidator(_check_version)]


class Artifact(_Strict):
    uri: str = Field(min_length=1)
    # Unknown only for a version GTO registered whose file is not in git (see Origin).
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(default=None, ge=0)


class Origin(_Strict):
    """Where a record comes from when mlbot did not register the version itself."""

    source: Literal["gto-tag"] = "gto-tag"
    tag: str  # the registration tag the record is derived from
    commit: str  # the tag's target
    tagger: str
    tagged_at: dt.datetime
    message: str = ""
    declared_in: str | None = None  # artifacts.yaml or dvc.yaml, where the path came from


class Lineage(_Strict):
    commit: str | None = None
    # path -> digest (DVC md5 or sha256), as recorded by dvc.lock or .dvc files.
    data: dict[str, str] = Field(default_factory=dict)
    mlflow_run_id: str | None = None
    ci_run_url: str | None = None


class Evidence(_Strict):
    signature: SignatureEvidence | None = None
    scan: ScanEvidence | None = None


class SliceMetric(_Strict):
    """One metric measured per group, and the largest gap between two groups."""

    groups: dict[str, float]
    gap: float


class VersionRecord(_Strict):
    schema_: Literal["mlbot/v1"] = Field(default=SCHEMA, alias="schema")
    model: str = Field(pattern=MODEL_NAME.pattern)
    version: Version
    artifact: Artifact
    metrics: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    slices: dict[str, SliceMetric] = Field(default_factory=dict)
    lineage: Lineage = Field(default_factory=Lineage)
    evidence: Evidence = Field(default_factory=Evidence)
    created_at: dt.datetime
    created_by: str = Field(min_length=1)
    origin: Origin | None = None

    @model_validator(mode="after")
    def _digest_known(self) -> VersionRecord:
        if self.origin is None and (self.artifact.sha256 is None or self.artifact.size is None):
            raise ValueError("artifact: sha256 and size are required")
        return self


class StageEntry(_Strict):
    version: Version
    since: dt.datetime
    by: str
    until: dt.datetime | None = None
    reason: str | None = None


class StageState(StageEntry):
    # Most recent first, at most HISTORY_LIMIT entries.
    previous: list[StageEntry] = Field(default_factory=list)


class Deprecation(_Strict):
    version: Version
    at: dt.datetime
    by: str
    reason: str | None = None


class StagesFile(_Strict):
    schema_: Literal["mlbot/v1"] = Field(default=SCHEMA, alias="schema")
    model: str = Field(pattern=MODEL_NAME.pattern)
    stages: dict[str, StageState] = Field(default_factory=dict)
    deprecated: list[Deprecation] = Field(default_factory=list)

    @field_validator("stages")
    @classmethod
    def _stage_names(cls, value: dict[str, StageState]) -> dict[str, StageState]:
        for name in value:
            if not STAGE_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid stage name")
        return value

    def live(self) -> dict[str, str]:
        return {stage: state.version for stage, state in self.stages.items()}

    def is_deprecated(self, version: str) -> bool:
        return any(d.version == version for d in self.deprecated)


def dump(model: BaseModel) -> bytes:
    data = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return yamlio.dump(data).encode()


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def parse_file(path: str, content: bytes, kind: type[BaseModel]) -> Any:
    """Parse a registry file, naming the file and the first problem on failure."""
    data = documents.load_mapping(content, path)
    if data.get("schema") != SCHEMA:
        raise InputError(f"{path} has schema {data.get('schema')!r}; this mlbot reads {SCHEMA}.")
    try:
        return kind.model_validate(data)
    except ValidationError as err:
        problem = documents.where(err)
        raise InputError(f"{path} does not match the {SCHEMA} schema: {problem}") from None
