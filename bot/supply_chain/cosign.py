"""cosign blob signatures: sign, and verify as `cosign verify-blob` does.

A blob signature is ECDSA with SHA-256 over the raw artifact bytes, written
as base64 of the ASN.1 DER signature. Verification always works from the
artifact's sha256 digest (ECDSA over a prehashed message), so the bot can
check a registered version from its record without downloading the artifact.

Formats read:
- detached `.sig` (base64 DER, whitespace ignored), with a public key or a
  Fulcio certificate (`--certificate`);
- Sigstore bundles v0.1, v0.2, v0.3 (`messageSignature` only; DSSE envelopes
  are attestations, not blob signatures);
- the legacy `cosign sign-blob --bundle` JSON (`base64Signature`, `cert`,
  `rekorBundle`).

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

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from bot.errors import InputError
from bot.supply_chain import fulcio, rekor
from bot.supply_chain.evidence import SignatureEvidence
from bot.supply_chain.keys import (
    key_fingerprint,
    key_hint,
    load_public_key,
)
from bot.supply_chain.policy import CosignIdentity, CosignPolicy

_ECDSA_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))
_OID_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OID_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_BUNDLE_MEDIA = {
    "application/vnd.dev.sigstore.bundle+json;version=0.1": "v0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2": "v0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3": "v0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json": "v0.3",
}
_HEX64 = re.compile(r"[0-9a-f]{64}")


# --- data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """The parts of a bundle that bear on a blob signature."""

    format: Literal["v0.1", "v0.2", "v0.3", "cosign-legacy"]
    signature: bytes
    raw: dict[str, Any]
    message_digest: bytes | None = None
    key_hint: str | None = None
    certificate: x509.Certificate | None = None
    # sha256 hex of the artifact as the Rekor hashedrekord body records it.
    tlog_digests: tuple[str, ...] = ()
    tlog_entries: int = 0


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


# --- decoding --------------------------------------------------------------------------


def parse_digest(value: str) -> bytes:
    """`sha256:<hex>` or bare hex -> 32 raw bytes."""
    hexpart = value.strip().lower().removeprefix("sha256:")
    if not _HEX64.fullmatch(hexpart):
        raise InputError(f"{value!r} is not a sha256 digest (expected sha256:<64 hex digits>)")
    return bytes.fromhex(hexpart)


def decode_signature(data: bytes | str, *, name: str = "signature") -> bytes:
    """base64 of ASN.1 DER, with any whitespace (cosign writes none; others a newline)."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    compact = "".join(text.split())
    if not compact:
        raise InputError(f"{name} is empty")
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{name} is not base64: {exc}") from exc
    if not der or der[0] != 0x30:
        raise InputError(f"{name} is not a base64 ASN.1 DER ECDSA signature")
    return der


def encode_signature(der: bytes) -> str:
    return base64.b64encode(der).decode()


def load_certificate(data: bytes, *, name: str = "certificate") -> x509.Certificate:
    """A PEM or DER certificate, or base64 of a PEM one (as the legacy bundle's `cert`)."""
    try:
        if b"-----BEGIN" not in data and not data.startswith(b"\x30"):
            data = base64.b64decode(b"".join(data.split()), validate=True)
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, binascii.Error) as exc:
        raise InputError(f"{name} is not a valid X.509 certificate: {exc}") from exc


def certificate_identity(cert: x509.Certificate) -> tuple[str | None, str | None]:
    """(subject alternative name, OIDC issuer) of a Fulcio certificate."""
    identity = None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for kind in (x509.RFC822Name, x509.UniformResourceIdentifier):
            names = san.get_values_for_type(kind)
            if names:
                identity = names[0]
                break
        if identity is None:
            others = san.get_values_for_type(x509.OtherName)
            if others:
                identity = _der_string(others[0].value)
    except x509.ExtensionNotFound:
        pass
    issuer = None
    for ext in cert.extensions:
        if ext.oid == _OID_ISSUER_V2 and isinstance(ext.value, x509.UnrecognizedExtension):
            issuer = _der_string(ext.value.value)
            break
        if ext.oid == _OID_ISSUER_V1 and isinstance(ext.value, x509.UnrecognizedExtension):
            issuer = ext.value.value.decode("utf-8", "replace")
    return identity, issuer


def _der_string(der: bytes) -> str | None:
    # A DER UTF8String: tag 0x0c, length (short or long form), bytes.
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, offset = der[1], 2
    if length & 0x80:
        n = length & 0x7F
        length, offset = int.from_bytes(der[2 : 2 + n], "big"), 2 + n
    return der[offset : offset + length].decode("utf-8", "replace")


def parse_bundle(data: bytes | dict[str, Any], *, name: str = "bundle") -> Bundle:
    """Read a Sigstore bundle (v0.1-v0.3) or a legacy cosign `--bundle` file."""
    if isinstance(data, dict):
        doc = data
    else:
        try:
            doc = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError(f"{name} is not a JSON object")
    if "base64Signature" in doc:
        return _parse_legacy(doc, name)
    media = doc.get("mediaType")
    if media not in _BUNDLE_MEDIA:
        raise InputError(f"{name} is not a Sigstore bundle (mediaType {media!r}) nor a cosign one")
    if "dsseEnvelope" in doc:
        raise InputError(
            f"{name} holds a DSSE envelope (an attestation), not a blob signature; "
            "verify it with `cosign verify-blob-attestation`"
        )
    try:
        ms = doc["messageSignature"]
        signature = decode_signature(ms["signature"], name=f"{name} messageSignature.signature")
        message_digest = None
        if ms.get("messageDigest"):
            algo = ms["messageDigest"].get("algorithm")
            if algo != "SHA2_256":
                raise InputError(f"{name}: message digest {algo!r} is not SHA2_256")
            message_digest = base64.b64decode(ms["messageDigest"]["digest"], validate=True)
        vm = doc["verificationMaterial"]
        cert = None
        if "certificate" in vm:
            cert = load_certificate(base64.b64decode(vm["certificate"]["rawBytes"]), name=name)
        elif "x509CertificateChain" in vm:
            leaf = vm["x509CertificateChain"]["certificates"][0]["rawBytes"]
            cert = load_certificate(base64.b64decode(leaf), name=name)
        hint = (vm.get("publicKey") or {}).get("hint")
        entries = vm.get("tlogEntries") or []
        bodies = [e.get("canonicalizedBody") for e in entries if isinstance(e, dict)]
    except InputError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, binascii.Error) as exc:
        raise InputError(f"{name} is a malformed Sigstore bundle: {exc!r}") from exc
    if cert is None and "publicKey" not in vm:
        raise InputError(f"{name} has neither a certificate nor a public key")
    return Bundle(
        format=_BUNDLE_MEDIA[media],  # type: ignore[arg-type]
        signature=signature,
        raw=doc,
        message_digest=message_digest,
        key_hint=hint,
        certificate=cert,
        tlog_digests=tuple(d for d in map(_hashedrekord_digest, bodies) if d),
        tlog_entries=len(entries),
    )


def _parse_legacy(doc: dict[str, Any], name: str) -> Bundle:
    signature = decode_signature(doc["base64Signature"], name=f"{name} base64Signature")
    cert = load_certificate(doc["cert"].encode(), name=f"{name} cert") if doc.get("cert") else None
    rekor = doc.get("rekorBundle") or {}
    body = (rekor.get("Payload") or {}).get("body")
    digest = _hashedrekord_digest(body)
    return Bundle(
        format="cosign-legacy",
        signature=signature,
        raw=doc,
        certificate=cert,
        tlog_digests=(digest,) if digest else (),
        tlog_entries=1 if rekor else 0,
    )


def _hashedrekord_digest(body: Any) -> str | None:
    if not isinstance(body, str):
        return None
    try:
        entry = json.loads(base64.b64decode(body))
        if entry.get("kind") != "hashedrekord":
            return None
        h = entry["spec"]["data"]["hash"]
        return h["value"].lower() if h.get("algorithm") == "sha256" else None
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


# --- signing ---------------------------------------------------------------------------


def sign_digest(key: ec.EllipticCurvePrivateKey, digest: bytes) -> str:
    """base64 DER ECDSA-SHA256 signature over the artifact whose sha256 is `digest`."""
    return encode_signature(key.sign(digest, _ECDSA_PREHASHED))


def sign_blob(key: ec.EllipticCurvePrivateKey, data: bytes) -> str:
    return sign_digest(key, hashlib.sha256(data).digest())


# --- verification ----------------------------------------------------------------------


def _verifies(key: ec.EllipticCurvePublicKey, signature: bytes, digest: bytes) -> bool:
    try:
        key.verify(signature, digest, _ECDSA_PREHASHED)
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
    import datetime as dt

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


# --- the gate's entry point ------------------------------------------------------------


def default_trusted_root() -> Path | None:
    """The production Sigstore trusted root shipped inside `sigstore`, used offline.

    It is as fresh as the installed `sigstore` release (no TUF refresh); a
    policy's `trusted_root` overrides it (private or staging instances).
    """
    try:
        from importlib.resources import files

        root = files("sigstore") / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
        path = Path(str(root / "trusted_root.json"))
    except (ImportError, ModuleNotFoundError, TypeError):
        return None
    return path if path.is_file() else None


def trusted_keys(policy: CosignPolicy, repo_root: Path) -> list[TrustedKey]:
    """Keys from the policy: PEM text inline, or a path relative to the repository."""
    out = []
    for entry in policy.trusted_keys:
        if "-----BEGIN" in entry:
            label, data = "a key given inline in the policy", entry.encode()
        else:
            path = (repo_root / entry).resolve()
            if not path.is_relative_to(repo_root.resolve()):
                raise InputError(f"trusted key {entry} is outside the repository")
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"trusted key {entry} cannot be read: {exc}") from exc
            label = entry
        out.append(TrustedKey(label, load_public_key(data, name=f"trusted key {label}")))
    return out


def verify_recorded(
    artifact_sha256: str,
    evidence: SignatureEvidence,
    policy: CosignPolicy,
    repo_root: Path,
) -> SignatureVerdict:
    """Check a registered version's signature from its recorded digest alone. Never raises."""
    try:
        digest = parse_digest(artifact_sha256)
        bundle = parse_bundle(evidence.bundle, name="recorded bundle") if evidence.bundle else None
        certificate = None
        if evidence.certificate:
            certificate = load_certificate(evidence.certificate.encode(), name="recorded cert")
        signature = None if bundle else decode_signature(evidence.signature)
        keyless = (bundle is not None and bundle.certificate is not None) or certificate
        keys = [] if keyless else trusted_keys(policy, repo_root)
        if not keyless and not keys:
            return SignatureVerdict(False, "the policy lists no trusted cosign key")
        if keyless and not policy.identities:
            identity = evidence.identity or "an unknown signer"
            return SignatureVerdict(
                False,
                f"the version is signed keyless by {identity}, but the policy trusts no "
                "keyless identity",
                identity=evidence.identity,
                issuer=evidence.issuer,
                kind="keyless",
            )
        root = (repo_root / policy.trusted_root) if policy.trusted_root else None
        root = root or default_trusted_root()
        return verify(
            digest,
            signature,
            keys=keys,
            bundle=bundle,
            certificate=certificate,
            identities=policy.identities,
            trusted_root=root,
            require_chain=True,
        )
    except InputError as exc:
        return SignatureVerdict(False, f"the recorded signature cannot be checked: {exc}")
