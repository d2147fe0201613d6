"""The policy schema (schema: mlbot/v1), exported to policies/schema.json.

A policy pack (policies/default.yaml, policies/strict.yaml) is a complete
policy; a repository's `.github/mlbot.yml` overrides parts of it, for all
models or for one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.supply_chain.policy import SupplyChainPolicy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class StagePolicy(_Strict):
    """What a version needs to enter one stage."""

    approvals: int = Field(default=0, ge=0, description="Code-owner approvals required.")
    allow_self_approval: bool = Field(
        default=False, description="Whether the requester's own approval counts."
    )
    accept_stale_approvals: bool = Field(
        default=False, description="Whether approvals of an older PR head still count."
    )
    required_checks: list[str] = Field(
        default_factory=list, description="Check runs or statuses that must be green."
    )
    from_stages: list[str] = Field(
        default_factory=list,
        alias="from",
        description="Stages a version must be in (or have been in) before this one; "
        "empty: any registered version may enter.",
    )
    require_signature: bool = False
    require_scan: bool = False
    pending_expiry_hours: float = Field(
        default=72, gt=0, description="How long a /promote waits for approvals."
    )
    allow_cli: bool = Field(
        default=False,
        description="Accept a pushed `mlbot registry promote` of this stage instead of "
        "reporting it as tampering: a commit that changes only this stage's entry of "
        "registry/<model>/stages.yaml the way the CLI does (history kept, a registered, "
        "undeprecated version), pushed by a code owner of that file or a "
        "`registration.writers` login. Nobody's approval is checked, so this waives the "
        "stage's `approvals` for such pushes; `--approved-by` stays a claim. Off by default: "
        "every hand-pushed change to a stage is reported.",
    )


class MetricGate(_Strict):
    direction: Literal["higher", "lower"] = "higher"
    min: float | None = None
    max: float | None = None
    max_regression: float | None = Field(
        default=None,
        ge=0,
        description="Largest allowed worsening against the baseline stage's live version, "
        "in the metric's own units.",
    )
    required: bool = Field(
        default=True, description="Fail when the metric is missing from the evidence."
    )


class SliceGate(_Strict):
    max_gap: float = Field(ge=0, description="Largest allowed gap between two groups.")


class EvidencePolicy(_Strict):
    trust_pr_workflows: bool = Field(
        default=False,
        description="Accept evaluations from a model workflow that the pull request changed "
        "(by default only the default branch's workflow file produces evidence).",
    )


class RollbackPolicy(_Strict):
    approvals: int = Field(default=1, ge=0)
    allow_self_approval: bool = Field(
        default=True, description="An incident is never blocked on a second person."
    )
    requesters: Literal["write", "owners"] = Field(
        default="write", description="Who may ask for a rollback."
    )


class DriftPolicy(_Strict):
    method: Literal[
        "auto", "ks", "wasserstein", "psi", "jensenshannon", "chisquare", "z", "kl_div"
    ] = Field(default="auto", description="Evidently's stattest for every column, or 'auto'.")
    column_threshold: float | None = Field(
        default=None, description="Stattest threshold; None uses the method's default."
    )
    share: float = Field(default=0.5, gt=0, le=1, description="Share of drifted columns.")
    sample_rows: int | None = Field(
        default=None,
        ge=1000,
        description="Judge drift on a sample of this many rows; null judges every row.",
    )
    report_rows: int | None = Field(
        default=200_000,
        ge=1000,
        description="Build the HTML report on a sample of this many rows; null uses every row.",
    )
    auto_retrain: bool = False
    labels: list[str] = Field(default_factory=lambda: ["mlbot:drift"])


class AutoRollback(_Strict):
    """Which alerts roll a stage back at once, with no person asked (`bot.incidents`)."""

    when: dict[str, str] = Field(
        default_factory=dict,
        description="Labels the alert must carry, e.g. {severity: critical}; empty: any alert.",
    )
    live_for_at_most_hours: float = Field(
        default=24,
        gt=0,
        description="Only a version that went live this recently is rolled back by itself.",
    )


class IncidentsPolicy(_Strict):
    """What an incident (an alert from Alertmanager) makes mlbot do; off by default."""

    auto_rollback: AutoRollback | None = Field(
        default=None, description="Roll back on a matching alert; null: a person decides."
    )


class ReportPolicy(_Strict):
    """How the PR comment writes numbers (display only: no gate reads this)."""

    decimals: int = Field(default=4, ge=0, le=12, description="Decimals of every metric.")
    metric_decimals: dict[str, int] = Field(
        default_factory=dict, description="Decimals of named metrics, overriding `decimals`."
    )
    rates: list[str] | None = Field(
        default=None,
        description="Metrics that are rates (shares between 0 and 1), whose changes are "
        "written in percentage points; None: guessed from the name (accuracy, precision, "
        "recall, f1, auc, rate).",
    )
    noise_floor: float = Field(
        default=0.001,
        ge=0,
        description="A change smaller than this, on a metric no gate looks at, gets no colour.",
    )


class RegistrationPolicy(_Strict):
    bump: Literal["major", "minor", "patch"] = "minor"
    writers: list[str] = Field(
        default_factory=list,
        description="GitHub logins (your CI, e.g. github-actions[bot]) whose pushes may add "
        "version records (the account GitHub authenticated for the push, never a commit's "
        "author field); any other change to registry/ not made by mlbot is reported as "
        "tampering, except CLI promotions into stages with allow_cli.",
    )
    history_limit: int = Field(default=20, ge=1, le=1000)


class Policy(_Strict):
    schema_: Literal["mlbot/v1"] = Field(default="mlbot/v1", alias="schema")
    name: str = "custom"
    stages: list[str] = Field(default_factory=lambda: ["staging", "production"])
    baseline_stage: str = Field(
        default="production", description="Metric regression is measured against this stage."
    )
    promotion: dict[str, StagePolicy] = Field(default_factory=dict)
    metrics: dict[str, MetricGate] = Field(default_factory=dict)
    slices: dict[str, SliceGate] = Field(default_factory=dict)
    supply_chain: SupplyChainPolicy = Field(default_factory=SupplyChainPolicy)
    rollback: RollbackPolicy = Field(default_factory=RollbackPolicy)
    evidence: EvidencePolicy = Field(default_factory=EvidencePolicy)
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    incidents: IncidentsPolicy = Field(default_factory=IncidentsPolicy)
    registration: RegistrationPolicy = Field(default_factory=RegistrationPolicy)
    report: ReportPolicy = Field(default_factory=ReportPolicy)

    @model_validator(mode="after")
    def _stages_known(self) -> Policy:
        known = set(self.stages)
        if len(known) != len(self.stages):
            raise ValueError("stages: a stage is listed twice")
        for stage, rule in self.promotion.items():
            if stage not in known:
                raise ValueError(f"promotion.{stage}: not one of the stages {self.stages}")
            for source in rule.from_stages:
                if source not in known:
                    raise ValueError(f"promotion.{stage}.from: unknown stage '{source}'")
        self._check_acyclic()
        return self

    def _check_acyclic(self) -> None:
        state: dict[str, int] = {}

        def visit(stage: str, path: list[str]) -> None:
            if state.get(stage) == 1:
                raise ValueError(f"promotion: stage order has a cycle: {' -> '.join(path)}")
            if state.get(stage) == 2:
                return
            state[stage] = 1
            for source in self.for_stage(stage).from_stages:
                visit(source, [*path, source])
            state[stage] = 2

        for stage in self.stages:
            visit(stage, [stage])

    def for_stage(self, stage: str) -> StagePolicy:
        return self.promotion.get(stage) or StagePolicy()
