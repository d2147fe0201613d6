"""The `X-Hub-Signature-256` check, as GitHub documents it.

The header is `sha256=` followed by the hex HMAC-SHA256 of the raw request
body, keyed with the webhook secret. Comparison is constant-time. Several
secrets may be accepted at once so that a secret can be rotated without
dropping deliveries. The legacy `X-Hub-Signature` (SHA-1) is never accepted.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

PREFIX = "sha256="


def sign(body: bytes, secret: bytes | str) -> str:
    """The header value GitHub would send for this body and secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    # hmac.digest: OpenSSL's one-shot HMAC, without building an HMAC object.
    return PREFIX + hmac.digest(key, body, "sha256").hex()


def verify(body: bytes, header: str | None, secrets: Sequence[bytes]) -> bool:
    """True when the header is a valid sha256 signature of body under one of the secrets."""
    if not header or not secrets or not header.startswith(PREFIX):
        return False
    given = header.encode("ascii", errors="replace")
    matched = False
    # Check every secret, not only until the first match, so timing does not
    # reveal which secret (old or new) signed the delivery.
    for secret in secrets:
        matched |= hmac.compare_digest(given, sign(body, secret).encode())
    return matched
