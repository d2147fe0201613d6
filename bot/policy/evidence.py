"""What a gate is judged on: plain data gathered by the adapters.

`None` means "not checked here" (the CLI cannot see reviews or CI checks);
a gate that the policy turns on and that has no evidence fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.registry.schema import SliceMetric
from bot.supply_chain.evidence import ScanEvidence


@dataclass(frozen=True)
class SignatureStatus:
    verified: bool
    reason: str
    identity: str | None = None


@dataclass(frozen=True)
class Approvals:
    """Approvals that count under the approval rules (already de-duplicated)."""

    approvers: tuple[str, ...]
    # Why other reviews did not count, for the reply ("bob: review on an older commit").
    discarded: tuple[str, ...] = ()
    blocked_by: tuple[str, ...] = ()  # owners whose latest review requests changes
    owners: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateEvidence:
    stage: str
    version: str
    # Stages the version is in now or has been in before.
    stage_history: frozenset[str] = frozenset()
    deprecated: bool = False
    metrics: Mapping[str, object] | None = None
    baseline_version: str | None = None
    baseline_metrics: Mapping[str, object] | None = None
    slices: Mapping[str, SliceMetric] | None = None
    signature: SignatureStatus | None = None
    scan: ScanEvidence | None = None
    approvals: Approvals | None = None
    checks: Mapping[str, str] | None = None  # check name -> conclusion on the head commit
    extra: Mapping[str, object] = field(default_factory=dict)
