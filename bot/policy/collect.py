"""Gathering gate evidence for a registered version (an adapter over the registry).

The gates are pure; this module reads the version records, the live
baseline and the signature they carry, and turns them into GateEvidence.
"""

from __future__ import annotations

from pathlib import Path

from bot.policy.evidence import Approvals, GateEvidence, SignatureStatus
from bot.policy.schema import Policy
from bot.registry.schema import VersionRecord
from bot.registry.state import ModelState


def signature_status(
    record: VersionRecord, policy: Policy, repo_root: Path | None
) -> SignatureStatus | None:
    if record.evidence.signature is None:
        return None
    from bot.supply_chain import cosign  # cryptography only when a signature is judged

    verdict = cosign.verify_recorded(
        record.artifact.sha256,
        record.evidence.signature,
        policy.supply_chain.cosign,
        repo_root or Path("."),
    )
    return SignatureStatus(verdict.verified, verdict.reason, verdict.identity)


def promotion_evidence(
    state: ModelState,
    version: str,
    stage: str,
    policy: Policy,
    *,
    repo_root: Path | None = None,
    approvals: Approvals | None = None,
    checks: dict[str, str] | None = None,
    metrics: dict | None = None,
) -> GateEvidence:
    """Evidence for promoting `version` to `stage`, read from the registry.

    `metrics` overrides the record's metrics (the bot passes the PR's
    evaluation, which compares on the same holdout as production).
    """
    record = state.record(version)
    baseline_version = state.live.get(policy.baseline_stage)
    baseline_metrics = None
    if baseline_version is not None and baseline_version != version:
        baseline_metrics = state.record(baseline_version).metrics
    needs_signature = any(
        policy.for_stage(s).require_signature for s in policy.stages if s == stage
    )
    return GateEvidence(
        stage=stage,
        version=version,
        stage_history=state.stage_history(version),
        deprecated=bool(state.stages and state.stages.is_deprecated(version)),
        metrics=metrics if metrics is not None else record.metrics,
        baseline_version=baseline_version if baseline_metrics is not None else None,
        baseline_metrics=baseline_metrics,
        slices=record.slices,
        signature=signature_status(record, policy, repo_root) if needs_signature else None,
        scan=record.evidence.scan,
        approvals=approvals,
        checks=checks,
    )
