"""File adapters: read reports, keys, signatures and bundles, and return evidence.

These are what the CLI and the registration path call; the decisions are in
`trivy` and `cosign`, which see only bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from bot.errors import InputError, Refused
from bot.supply_chain.cosign.bundle import parse_bundle
from bot.supply_chain.cosign.certificate import load_certificate
from bot.supply_chain.cosign.signature import decode_signature, encode_signature, parse_digest
from bot.supply_chain.cosign.verification import TrustedKey, verify
from bot.supply_chain.evidence import ScanEvidence, SignatureEvidence
from bot.supply_chain.keys import load_public_key
from bot.supply_chain.policy import TrivyPolicy
from bot.supply_chain.trivy import ScanResult, scan


def read_bytes(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def file_sha256(path: str | Path) -> str:
    """`sha256:<hex>` of a file, read in chunks so large artifacts do not fill memory."""
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise InputError(f"cannot read artifact {path}: {exc.strerror or exc}") from exc
    return "sha256:" + h.hexdigest()


def scan_from_files(
    report: str | Path,
    policy: TrivyPolicy,
    ignorefiles: Sequence[str | Path] = (),
) -> ScanResult:
    data = read_bytes(report, "Trivy report")
    ignores = []
    for f in ignorefiles:
        raw = read_bytes(f, "ignore file")
        try:
            ignores.append((Path(f).name, raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise InputError(f"ignore file {f} is not UTF-8 text") from exc
    try:
        return scan(data, policy, ignores)
    except InputError as exc:
        raise InputError(f"{report}: {exc}") from exc


def scan_evidence_from_report(
    path: str | Path, policy: TrivyPolicy, ignorefile: str | Path | None = None
) -> ScanEvidence:
    return scan_from_files(path, policy, [ignorefile] if ignorefile else []).evidence()


def signature_evidence_from_files(
    artifact_sha256: str,
    *,
    key_path: str | Path | None = None,
    signature_path: str | Path | None = None,
    bundle_path: str | Path | None = None,
    certificate_path: str | Path | None = None,
) -> SignatureEvidence:
    """Verify a signature over the artifact's digest, then return it as evidence.

    Keyless signatures are checked here at the signature level and their
    identity is recorded; whether that identity is trusted (and its chain
    verified) is decided by the promotion gate, per stage.
    """
    digest = parse_digest(artifact_sha256)
    if (signature_path is None) == (bundle_path is None):
        raise InputError("give exactly one of a signature file or a bundle")
    bundle = None
    signature = None
    if bundle_path is not None:
        bundle = parse_bundle(read_bytes(bundle_path, "bundle"), name=str(bundle_path))
    else:
        signature = decode_signature(read_bytes(signature_path, "signature"))
    certificate = None
    if certificate_path is not None:
        certificate = load_certificate(read_bytes(certificate_path, "certificate"))
    keys = []
    if key_path is not None:
        key = load_public_key(read_bytes(key_path, "public key"), name=str(key_path))
        keys.append(TrustedKey(Path(key_path).name, key))
    keyless = certificate is not None or (bundle is not None and bundle.certificate is not None)
    if not keyless and not keys:
        raise InputError("a key-based signature needs the public key to verify it")
    verdict = verify(
        digest,
        signature,
        keys=[] if keyless else keys,
        bundle=bundle,
        certificate=certificate,
        require_chain=False,
        require_identity=False,
    )
    if not verdict.verified:
        raise Refused(f"the signature does not verify: {verdict.reason}")
    cert = certificate or (bundle.certificate if bundle else None)
    sig = bundle.signature if bundle else signature
    assert sig is not None
    kind = "keyless" if keyless else ("bundle" if bundle else "key")
    from cryptography.hazmat.primitives.serialization import Encoding

    return SignatureEvidence(
        kind=kind,
        signature=encode_signature(sig),
        bundle=bundle.raw if bundle else None,
        key_fingerprint=verdict.key_fingerprint,
        identity=verdict.identity,
        issuer=verdict.issuer,
        certificate=cert.public_bytes(Encoding.PEM).decode() if cert else None,
    )
