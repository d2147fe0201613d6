"""The supply-chain section of a policy: what blocks a scan, whom to trust."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")


class TrivyIgnore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    reason: str
    expires: dt.date | None = None


class TrivyPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocking_severities: list[str] = Field(default_factory=lambda: ["CRITICAL", "HIGH"])
    ignore_unfixed: bool = False
    ignores: list[TrivyIgnore] = Field(default_factory=list)


class CosignIdentity(BaseModel):
    """A keyless signer we trust: certificate SAN and OIDC issuer, both exact."""

    model_config = ConfigDict(extra="forbid")

    subject: str
    issuer: str


class CosignPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Public keys (PEM text, or a path relative to the repository root).
    trusted_keys: list[str] = Field(default_factory=list)
    identities: list[CosignIdentity] = Field(default_factory=list)
    # Sigstore trusted_root.json (path relative to the repository root) against
    # which keyless certificate chains and Rekor entries are checked, offline.
    trusted_root: str | None = None


class SupplyChainPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trivy: TrivyPolicy = Field(default_factory=TrivyPolicy)
    cosign: CosignPolicy = Field(default_factory=CosignPolicy)
