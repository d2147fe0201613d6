"""Fulcio certificates of keyless signatures: loading one, and the signer it names.

The identity is the certificate's subject alternative name; the OIDC issuer
is Fulcio's extension (the v2 DER string, else the older raw v1 one). Whether
the certificate chains to a trusted Fulcio CA is `bot.supply_chain.fulcio`'s.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509

from bot.errors import InputError

_OID_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_OID_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")


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
