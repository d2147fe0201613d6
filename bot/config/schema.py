"""The schema of `.github/mlbot.yml`: models, their paths and commands, policy overrides."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.registry.names import MODEL_NAME, STAGE_NAME

CONFIG_PATH = ".github/mlbot.yml"
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-](?:[A-Za-z0-9._ -]{0,253}[A-Za-z0-9._-])?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MlflowMirror(_Strict):
    """Mirror the model's registry into an MLflow Model Registry (bot.ml.model_registry)."""

    registered_model: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$", description="MLflow registered model."
    )
    tracking_uri: str | None = Field(default=None, description="Default: $MLFLOW_TRACKING_URI.")
    aliases: dict[str, str] = Field(
        default_factory=dict, description="MLflow alias per stage (default: the stage's name)."
    )
    artifact_path: str = Field(default="model", description="The model's folder in its run.")

    @field_validator("aliases")
    @classmethod
    def _alias_names(cls, value: dict[str, str]) -> dict[str, str]:
        for stage, alias in value.items():
            # MLflow's own rule; `latest` and `v<N>` name versions there.
            if not re.match(r"^[\w-]{1,255}$", alias) or re.match(r"^(latest|[vV]\d+)$", alias):
                raise ValueError(f"'{alias}' (for {stage}) is not a usable MLflow alias")
        return value


class ModelConfig(_Strict):
    description: str | None = None
    path: str = Field(default=".", description="Folder of the model's code, from the repo root.")
    train: str | None = Field(default=None, description="Training command, run in `path`.")
    dvc_stage: str | None = Field(default=None, description="Run `dvc repro` of this stage.")
    artifact: str | None = Field(default=None, description="Where training writes the model.")
    metrics: str | None = Field(default=None, description="Metrics file training writes (JSON).")
    params: str | None = Field(default=None, description="Params file (YAML), e.g. params.yaml.")
    task: Literal["classification", "regression"] = "classification"
    target: str | None = Field(default=None, description="Label column.")
    group_columns: list[str] = Field(default_factory=list, description="Columns for slices.")
    data: dict[str, str] = Field(
        default_factory=dict,
        description="Named data files: train, holdout, reference, contract, ...",
    )
    workflow: str | None = Field(default=None, description="The model's PR workflow file name.")
    intended_use: str | None = None
    limitations: list[str] = Field(default_factory=list)
    policy: dict[str, Any] = Field(
        default_factory=dict, description="Policy overrides for this model only."
    )
    mlflow: MlflowMirror | None = None
    environments: dict[str, str] = Field(
        default_factory=dict,
        description="GitHub environment per stage for the model's deployments "
        "(default: the stage's name).",
    )

    @field_validator("environments")
    @classmethod
    def _environment_names(cls, value: dict[str, str]) -> dict[str, str]:
        for stage, name in value.items():
            if not STAGE_NAME.match(stage):
                raise ValueError(f"'{stage}' is not a valid stage name")
            # GitHub's limit; and no path or control characters: the name goes in URLs.
            if not _ENVIRONMENT.match(name):
                raise ValueError(
                    f"environment {name!r} for {stage}: use at most 255 letters, digits, "
                    "spaces and . _ -"
                )
        return value


class RepoConfig(_Strict):
    schema_: Literal["mlbot/v1"] = Field(default="mlbot/v1", alias="schema")
    policy: str = Field(default="default", description="A pack name or a policy file path.")
    policy_overrides: dict[str, Any] = Field(default_factory=dict, alias="overrides")
    models: dict[str, ModelConfig] = Field(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _names(cls, value: dict[str, ModelConfig]) -> dict[str, ModelConfig]:
        for name in value:
            if not MODEL_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid model name")
        return value
