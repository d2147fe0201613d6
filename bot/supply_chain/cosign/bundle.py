"""Bundles: a blob signature with the material to verify it, read into a `Bundle`.

Formats read:
- Sigstore bundles v0.1, v0.2, v0.3 (`messageSignature` only; DSSE envelopes
  are attestations, not blob signatures);
- the legacy `cosign sign-blob --bundle` JSON (`base64Signature`, `cert`,
  `rekorBundle`).

Only what bears on a blob signature is taken out (the signature, the
message digest, the key hint, the certificate, the artifact digest each
Rekor entry names); the whole document is kept in `Bundle.raw` for the
checks that need it (Rekor entries, `sigstore`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Literal

from cryptography import x509

from bot.errors import InputError
from bot.supply_chain.cosign.certificate import load_certificate
from bot.supply_chain.cosign.signature import decode_signature

_BUNDLE_MEDIA = {
    "application/vnd.dev.sigstore.bundle+json;version=0.1": "v0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2": "v0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3": "v0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json": "v0.3",
}


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
