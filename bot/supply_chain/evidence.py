"""Evidence recorded in a version record, read back by the promotion gates.

These models are the contract between the supply-chain tools (which produce
them) and the registry and policy (which store and judge them). Fields are
only ever added, with defaults, so old records keep validating.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SignatureEvidence(BaseModel):
    """A cosign signature over the artifact, as recorded at registration."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["key", "bundle", "keyless"]
    # base64 of the ASN.1 DER ECDSA signature, exactly as cosign writes it.
    signature: str
    # The Sigstore bundle (or legacy cosign bundle) JSON, when signed with one.
    bundle: dict | None = None
    # "sha256:<hex>" of the DER SubjectPublicKeyInfo of the signing key.
    key_fingerprint: str | None = None
    # Keyless: the certificate's identity (SAN) and OIDC issuer.
    identity: str | None = None
    issuer: str | None = None
    # PEM certificate for keyless signatures.
    certificate: str | None = None


class ScanEvidence(BaseModel):
    """A Trivy scan of the artifact or its image, summarised at registration."""

    model_config = ConfigDict(extra="forbid")

    tool: Literal["trivy"] = "trivy"
    report_sha256: str
    # Findings counted by severity (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN).
    counts: dict[str, int] = Field(default_factory=dict)
    # Counted by class: vulnerability, misconfiguration, secret.
    classes: dict[str, int] = Field(default_factory=dict)
    # Ids of findings that block under the policy in force when scanned.
    blocking: list[str] = Field(default_factory=list)
    passed: bool
