"""The blob signature itself: what it signs, how it is written, and how to make one.

A cosign blob signature is ECDSA with SHA-256 over the raw artifact bytes,
written as base64 of the ASN.1 DER signature (a detached `.sig`). The bot
signs and verifies from the artifact's sha256 digest (ECDSA over a
prehashed message), so a registered version is checked from its record
without downloading the artifact.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from bot.errors import InputError

# The digest, not the blob, is what gets signed and verified.
ECDSA_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))
_HEX64 = re.compile(r"[0-9a-f]{64}")


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


def sign_digest(key: ec.EllipticCurvePrivateKey, digest: bytes) -> str:
    """base64 DER ECDSA-SHA256 signature over the artifact whose sha256 is `digest`."""
    return encode_signature(key.sign(digest, ECDSA_PREHASHED))


def sign_blob(key: ec.EllipticCurvePrivateKey, data: bytes) -> str:
    return sign_digest(key, hashlib.sha256(data).digest())
