"""Signing keys as cosign writes them: PEM public keys and (encrypted) private keys.

cosign's encrypted private keys (`ENCRYPTED SIGSTORE PRIVATE KEY`, and the
older `ENCRYPTED COSIGN PRIVATE KEY`) are PEM around a JSON document: scrypt
parameters and salt, a nacl/secretbox nonce, and the ciphertext of a PKCS#8
DER key. `cryptography` has no XSalsa20-Poly1305, so the box is opened with
PyNaCl.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.errors import InputError

COSIGN_LABELS = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
_PEM_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)
# scrypt needs 128*N*r bytes; cosign uses up to N=65536, r=8 (64 MiB). Refuse beyond 1 GiB.
_SCRYPT_MAXMEM = 1 << 30


class WrongPassword(InputError):
    """The password does not open the encrypted key."""


def pem_label(data: bytes) -> str | None:
    m = _PEM_RE.search(data)
    return m.group(1).decode() if m else None


def load_public_key(data: bytes, *, name: str = "public key") -> ec.EllipticCurvePublicKey:
    """A PEM public key (or a PEM certificate, whose key is taken) for ECDSA verification."""
    label = pem_label(data)
    try:
        if label == "CERTIFICATE":
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{name} is not a valid PEM public key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InputError(
            f"{name} is a {type(key).__name__.lstrip('_')}; mlbot verifies ECDSA keys only "
            "(cosign's default key type)"
        )
    return key


def key_fingerprint(key: ec.EllipticCurvePublicKey) -> str:
    """`sha256:<hex>` of the DER SubjectPublicKeyInfo, as recorded in evidence."""
    return "sha256:" + hashlib.sha256(spki_der(key)).hexdigest()


def spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """The Sigstore bundle `publicKey.hint`: base64 of sha256 of the SPKI DER."""
    return base64.b64encode(hashlib.sha256(spki_der(key)).digest()).decode()


def public_pem(key: ec.EllipticCurvePublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_private_key(
    data: bytes, password: bytes | None, *, name: str = "private key"
) -> ec.EllipticCurvePrivateKey:
    """Load a PKCS#8/SEC1 PEM key, or cosign's encrypted key with `password`."""
    m = _PEM_RE.search(data)
    if m is None:
        raise InputError(f"{name} is not a PEM file")
    label = m.group(1).decode()
    if label in COSIGN_LABELS:
        if password is None:
            raise InputError(f"{name} is encrypted: set COSIGN_PASSWORD")
        der = _decrypt_cosign(m.group(2), password, name)
        try:
            key = serialization.load_der_private_key(der, password=None)
        except ValueError as exc:
            raise InputError(f"{name} decrypted to something that is not a key: {exc}") from exc
    else:
        try:
            key = serialization.load_pem_private_key(
                data, password=password if label == "ENCRYPTED PRIVATE KEY" else None
            )
        except TypeError as exc:
            raise InputError(f"{name} is encrypted: set COSIGN_PASSWORD") from exc
        except ValueError as exc:
            if label == "ENCRYPTED PRIVATE KEY":
                raise WrongPassword(f"wrong password for {name}") from exc
            raise InputError(f"{name} is not a valid private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InputError(f"{name} is not an ECDSA key; mlbot signs with ECDSA keys only")
    return key


def _decrypt_cosign(body: bytes, password: bytes, name: str) -> bytes:
    import nacl.exceptions
    import nacl.secret

    try:
        doc = json.loads(base64.b64decode(b"".join(body.split()), validate=True))
        kdf, cipher = doc["kdf"], doc["cipher"]
        if kdf["name"] != "scrypt" or cipher["name"] != "nacl/secretbox":
            raise InputError(
                f"{name}: unsupported encryption {kdf['name']}/{cipher['name']}; "
                "expected scrypt and nacl/secretbox"
            )
        params = kdf["params"]
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(cipher["nonce"])
        ciphertext = base64.b64decode(doc["ciphertext"])
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InputError(f"{name} is not a readable cosign encrypted key: {exc}") from exc
    if 128 * n * r > _SCRYPT_MAXMEM:
        raise InputError(f"{name}: scrypt parameters N={n} r={r} ask for too much memory")
    secret = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=_SCRYPT_MAXMEM)
    try:
        return nacl.secret.SecretBox(secret).decrypt(ciphertext, nonce)
    except (nacl.exceptions.CryptoError, ValueError) as exc:
        raise WrongPassword(f"wrong password for {name} (COSIGN_PASSWORD)") from exc
