"""Verifying a blob signature from the artifact's digest, as `cosign verify-blob` does.

What is and is not checked is reported in every verdict (`checked`,
`not_checked`). Key-based: the signature against the trusted key; the
bundle's digest, key hint and Rekor body must agree with it; each Rekor
signed entry timestamp is checked when the trusted root knows that log (a
forged one fails). Keyless: the signature against the certificate's key,
the identity against the policy, and the certificate chain, Rekor entry and
signing time against a trusted root file, offline: Sigstore bundles through
the optional `sigstore` library; legacy cosign bundles (which it cannot
load) by their SET and a `cryptography` chain check at the logged time. A
keyless signature whose chain was not checked is never "verified".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from bot.errors import InputError
from bot.supply_chain import fulcio, rekor
from bot.supply_chain.cosign.bundle import Bundle
from bot.supply_chain.cosign.certificate import certificate_identity
from bot.supply_chain.cosign.signature import ECDSA_PREHASHED
from bot.supply_chain.keys import key_fingerprint, key_hint
from bot.supply_chain.policy import CosignIdentity


@dataclass
class SignatureVerdict:
    verified: bool
    reason: str
    identity: str | None = None
    issuer: str | None = None
    key_fingerprint: str | None = None
    kind: str = "key"
    checked: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrustedKey:
    label: str
    key: ec.EllipticCurvePublicKey


def _verifies(key: ec.EllipticCurvePublicKey, signature: bytes, digest: bytes) -> bool:
    try:
        key.verify(signature, digest, ECDSA_PREHASHED)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(
    digest: bytes,
    signature: bytes | None = None,
    *,
    keys: Sequence[TrustedKey] = (),
    bundle: Bundle | None = None,
    certificate: x509.Certificate | None = None,
    identities: Sequence[CosignIdentity] = (),
    trusted_root: Path | None = None,
    require_chain: bool = True,
    require_identity: bool = True,
) -> SignatureVerdict:
    """Verify a blob signature from the artifact's sha256 digest. Never raises on a bad one."""
    digest_hex = digest.hex()
    if bundle is not None:
        signature = bundle.signature
        certificate = bundle.certificate or certificate
    if signature is None:
        raise InputError("no signature given: pass a signature or a bundle")
    checked: list[str] = []
    not_checked: list[str] = []

    def no(reason: str, **kw: Any) -> SignatureVerdict:
        return SignatureVerdict(False, reason, checked=checked, not_checked=not_checked, **kw)

    if bundle is not None:
        if bundle.message_digest is not None:
            if bundle.message_digest != digest:
                return no(
                    f"the bundle was made for a different artifact: its digest is "
                    f"sha256:{bundle.message_digest.hex()}, the artifact's is sha256:{digest_hex}"
                )
            checked.append("bundle message digest equals the artifact's sha256")
        for logged in bundle.tlog_digests:
            if logged != digest_hex:
                return no(
                    f"the transparency log entry in the bundle is for a different artifact "
                    f"(sha256:{logged})"
                )
        if bundle.tlog_digests:
            checked.append("Rekor entry body names the artifact's sha256")

    if certificate is not None:
        return _verify_keyless(
            digest,
            signature,
            certificate,
            bundle,
            identities,
            trusted_root,
            (require_chain, require_identity),
            checked,
            not_checked,
        )

    if not keys:
        return no("no trusted public key to verify the signature with")
    candidates = list(keys)
    if bundle is not None and bundle.key_hint:
        candidates = [k for k in keys if key_hint(k.key) == bundle.key_hint]
        if not candidates:
            return no(
                f"the bundle was signed by another key (hint {bundle.key_hint}), "
                f"not by {_names(keys)}"
            )
        checked.append("bundle key hint matches the key")
    for k in candidates:
        if _verifies(k.key, signature, digest):
            checked.insert(0, f"ECDSA-SHA256 signature over sha256:{digest_hex} with {k.label}")
            if bundle is not None and bundle.tlog_entries:
                tlog_error = _check_log_entries(bundle, trusted_root, checked, not_checked)
                if tlog_error is not None:
                    return no(tlog_error)
            return SignatureVerdict(
                True,
                f"signature verified with {k.label} ({key_fingerprint(k.key)})",
                key_fingerprint=key_fingerprint(k.key),
                checked=checked,
                not_checked=not_checked,
            )
    return no(
        f"the signature does not match this artifact (sha256:{digest_hex}) "
        f"under {_names(candidates)}: the artifact, the signature or the key differs "
        "from what was signed"
    )


def _check_log_entries(
    bundle: Bundle, trusted_root: Path | None, checked: list[str], not_checked: list[str]
) -> str | None:
    """Key-based bundles: check each Rekor SET we have the log key for; a bad one fails."""
    if trusted_root is None:
        not_checked.append("the Rekor entry's signed entry timestamp (no trusted root given)")
        return None
    try:
        keys = rekor.load_log_keys(trusted_root)
        entries = rekor.entries_from_bundle(bundle.raw)
    except InputError as exc:
        return str(exc)
    for entry in entries:
        ok, what = rekor.verify_set(entry, keys)
        if ok is False:
            return f"the bundle's transparency log entry is not genuine: {what}"
        (checked if ok else not_checked).append(
            what if ok else f"the Rekor entry's signed entry timestamp: {what}"
        )
    not_checked.append("the Rekor Merkle inclusion proof and checkpoint")
    return None


def _names(keys: Sequence[TrustedKey]) -> str:
    if len(keys) == 1:
        return keys[0].label
    return f"any of {len(keys)} trusted keys"


def _verify_keyless(
    digest: bytes,
    signature: bytes,
    cert: x509.Certificate,
    bundle: Bundle | None,
    identities: Sequence[CosignIdentity],
    trusted_root: Path | None,
    requirements: tuple[bool, bool],
    checked: list[str],
    not_checked: list[str],
) -> SignatureVerdict:
    require_chain, require_identity = requirements
    identity, issuer = certificate_identity(cert)
    kw: dict[str, Any] = {
        "identity": identity,
        "issuer": issuer,
        "kind": "keyless",
        "checked": checked,
        "not_checked": not_checked,
    }
    try:
        key = cert.public_key()
    except ValueError as exc:
        return SignatureVerdict(False, f"the certificate's public key is not valid: {exc}", **kw)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not _verifies(key, signature, digest):
        return SignatureVerdict(
            False,
            f"the signature does not match this artifact (sha256:{digest.hex()}) under the "
            f"certificate of {identity}: the artifact, the signature or the certificate "
            "differs from what was signed",
            **kw,
        )
    checked.insert(0, f"ECDSA-SHA256 signature with the certificate key of {identity}")
    if identities:
        if not any(i.subject == identity and i.issuer == issuer for i in identities):
            return SignatureVerdict(
                False,
                f"the signer {identity} (issuer {issuer}) is not an identity the policy trusts",
                **kw,
            )
        checked.append(f"identity {identity} from {issuer} is trusted by the policy")
    elif require_identity:
        not_checked.append("the signer's identity (no trusted identity was given)")
        return SignatureVerdict(
            False,
            f"the signature is valid for {identity} ({issuer}), but no trusted identity was "
            "given to compare it with (--certificate-identity and --certificate-oidc-issuer)",
            **kw,
        )

    chain_error = _verify_chain(digest, cert, bundle, identities, trusted_root, checked)
    if chain_error is None:
        if bundle is not None and bundle.format == "cosign-legacy":
            not_checked.extend(
                [
                    "the certificate's embedded SCT (certificate transparency)",
                    "the Rekor Merkle inclusion proof (legacy bundles carry none)",
                ]
            )
        return SignatureVerdict(True, f"keyless signature by {identity} ({issuer}) verified", **kw)
    not_checked.extend(
        [
            "certificate chain to a Fulcio root",
            "Rekor transparency log entry",
            "signing time within the certificate's validity",
        ]
    )
    if require_chain:
        return SignatureVerdict(
            False,
            f"the signature is valid for {identity} ({issuer}), but {chain_error}, so the "
            "identity is not verified",
            **kw,
        )
    return SignatureVerdict(
        True,
        f"signature valid for {identity} ({issuer}); certificate chain and transparency log "
        f"NOT verified ({chain_error})",
        **kw,
    )


def _verify_chain(
    digest: bytes,
    cert: x509.Certificate,
    bundle: Bundle | None,
    identities: Sequence[CosignIdentity],
    trusted_root: Path | None,
    checked: list[str],
) -> str | None:
    """Full Sigstore verification through `sigstore`; the reason it could not, or None."""
    if bundle is None:
        return "there is no bundle with a transparency log entry to check the certificate against"
    if trusted_root is None:
        return "no Sigstore trusted root was given"
    if bundle.format == "cosign-legacy":
        return _verify_legacy_chain(cert, bundle, trusted_root, checked)
    try:
        from sigstore.errors import Error as SigstoreError
        from sigstore.hashes import Hashed
        from sigstore.models import Bundle as SigstoreBundle
        from sigstore.models import TrustedRoot
        from sigstore.verify import Verifier, policy
        from sigstore_models.common.v1 import HashAlgorithm
    except ImportError:
        return "the optional `sigstore` library is not installed (pip install 'mlbot[sigstore]')"
    try:
        root = TrustedRoot.from_file(str(trusted_root))
    except (OSError, ValueError, SigstoreError) as exc:
        return f"the trusted root {trusted_root} could not be read ({exc})"
    try:
        sbundle = SigstoreBundle.from_json(json.dumps(bundle.raw))
        if identities:
            pol: Any = policy.AnyOf(
                [policy.Identity(identity=i.subject, issuer=i.issuer) for i in identities]
            )
        else:
            pol = policy.UnsafeNoOp()
        hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest)
        Verifier(trusted_root=root).verify_artifact(hashed, sbundle, pol)
    except Exception as exc:  # sigstore raises many types; each is a failed check
        return f"Sigstore verification against {trusted_root.name} failed: {exc}"
    checked.append(
        f"certificate chain, Rekor entry and signing time against trusted root {trusted_root.name}"
    )
    return None


def _verify_legacy_chain(
    cert: x509.Certificate, bundle: Bundle, trusted_root: Path, checked: list[str]
) -> str | None:
    """sigstore-python cannot load legacy bundles: check the SET, then the chain at its time."""
    try:
        entries = rekor.entries_from_bundle(bundle.raw)
        keys = rekor.load_log_keys(trusted_root)
        cas = fulcio.load_fulcio_certs(trusted_root)
    except InputError as exc:
        return str(exc)
    if not entries:
        return "the legacy bundle has no transparency log entry"
    ok, what = rekor.verify_set(entries[0], keys)
    if ok is not True:
        return f"its transparency log entry was not verified ({what})"
    at = dt.datetime.fromtimestamp(entries[0].integrated_time, dt.timezone.utc)
    error = fulcio.verify_chain(cert, cas, at)
    if error is not None:
        return error
    checked.append(what)
    checked.append(
        f"certificate chain to a Fulcio CA in {trusted_root.name}, valid at the logged time"
    )
    return None
