"""Fulcio certificate chains, checked offline with `cryptography`'s X.509 verifier.

Used for legacy cosign bundles, which sigstore-python cannot load (they carry
no Merkle inclusion proof). The chain is built to a Fulcio CA from a Sigstore
`trusted_root.json`, at the time the transparency log recorded (already
proven by its signed entry timestamp), with the same extension policy as
sigstore-python: web-PKI defaults, with code-signing EKU instead of
client-auth. Embedded SCTs are not checked.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from bot.errors import InputError


def load_fulcio_certs(trusted_root: Path) -> list[x509.Certificate]:
    try:
        doc = json.loads(trusted_root.read_bytes())
        return [
            x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"]))
            for ca in doc.get("certificateAuthorities") or []
            for c in ca["certChain"]["certificates"]
        ]
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InputError(f"the trusted root {trusted_root} cannot be read: {exc!r}") from exc


def verify_chain(
    cert: x509.Certificate, cas: list[x509.Certificate], at: dt.datetime
) -> str | None:
    """None when `cert` chains to a Fulcio CA at time `at`; else why not."""
    from cryptography.x509.verification import (
        Criticality,
        ExtensionPolicy,
        PolicyBuilder,
        Store,
        VerificationError,
    )

    if not cas:
        return "the trusted root holds no Fulcio certificate authority"
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    verifier = (
        PolicyBuilder()
        .store(Store(cas))
        .time(at)
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .build_client_verifier()
    )
    try:
        verifier.verify(cert, [])
    except (VerificationError, x509.UnsupportedGeneralNameType) as exc:
        return f"the certificate does not chain to a trusted Fulcio CA at {at:%Y-%m-%d}: {exc}"
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "the certificate has no extended key usage (code signing expected)"
    if ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        return "the certificate is not for code signing"
    return None
