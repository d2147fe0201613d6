"""cosign signatures: every VALID fixture verifies, every INVALID one and every
one-byte change fails with a reason a person can act on."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.errors import InputError
from bot.supply_chain.cosign import default_trusted_root
from bot.supply_chain.cosign.bundle import parse_bundle
from bot.supply_chain.cosign.certificate import certificate_identity, load_certificate
from bot.supply_chain.cosign.signature import decode_signature, parse_digest, sign_blob
from bot.supply_chain.cosign.verification import SignatureVerdict, TrustedKey, verify
from bot.supply_chain.keys import (
    WrongPassword,
    key_fingerprint,
    key_hint,
    load_private_key,
    load_public_key,
)
from bot.supply_chain.policy import CosignIdentity
from tests.supply_chain.conftest import flip, sha256


@dataclass
class Case:
    """One VALID fixture, as bytes we can corrupt: artifact, signature, key."""

    name: str
    artifact: bytes
    signature: bytes  # raw DER
    key: bytes  # PEM public key, or the certificate (DER) for keyless
    keyless: bool
    bundle: dict | None = None
    bundle_sig_path: tuple[str, ...] = ()

    def verdict(
        self,
        artifact: bytes | None = None,
        signature: bytes | None = None,
        key: bytes | None = None,
    ) -> SignatureVerdict:
        artifact = self.artifact if artifact is None else artifact
        signature = self.signature if signature is None else signature
        key = self.key if key is None else key
        digest = sha256(artifact)
        if self.bundle is not None:
            doc = copy.deepcopy(self.bundle)
            *parents, last = self.bundle_sig_path
            node = doc
            for p in parents:
                node = node[p]
            node[last] = base64.b64encode(signature).decode()
            if self.keyless:
                _replace_cert(doc, key)
            bundle = parse_bundle(doc)
            keys = [] if self.keyless else [TrustedKey("key.pub", load_public_key(key))]
            return verify(
                digest, bundle=bundle, keys=keys, require_chain=False, require_identity=False
            )
        from cryptography import x509

        cert = x509.load_der_x509_certificate(key)
        return verify(
            digest, signature, certificate=cert, require_chain=False, require_identity=False
        )


def _replace_cert(doc: dict, der: bytes) -> None:
    vm = doc.get("verificationMaterial")
    if vm is None:  # legacy cosign bundle: base64 of the PEM
        pem = (
            b"-----BEGIN CERTIFICATE-----\n"
            + base64.encodebytes(der)
            + b"-----END CERTIFICATE-----\n"
        )
        doc["cert"] = base64.b64encode(pem).decode()
    elif "certificate" in vm:
        vm["certificate"]["rawBytes"] = base64.b64encode(der).decode()
    else:
        vm["x509CertificateChain"]["certificates"][0]["rawBytes"] = base64.b64encode(der).decode()


def _cert_der(cert_bytes: bytes) -> bytes:
    return load_certificate(cert_bytes).public_bytes(serialization.Encoding.DER)


def valid_cases(d: Path) -> list[Case]:
    happy = json.loads((d / "conformance/managed-key-happy-path/bundle.sigstore.json").read_text())
    staging = json.loads(
        (d / "conformance/managed-key-and-trusted-root/bundle.sigstore.json").read_text()
    )
    go = json.loads((d / "sigstore-go/public-key-validity.sigstore.json").read_text())
    sp = d / "sigstore-python"
    b01 = json.loads((sp / "bundle.txt.sigstore").read_text())
    b03 = json.loads((sp / "bundle_v3.txt.sigstore").read_text())
    legacy = json.loads(
        (d / "extracted-from-source/sigstore-rs-cosign-sign-blob-legacy.bundle").read_text()
    )
    ms = ("messageSignature", "signature")

    def sig_of(b: dict) -> bytes:
        return parse_bundle(b).signature

    def cert_of(b: dict) -> bytes:
        return parse_bundle(b).certificate.public_bytes(serialization.Encoding.DER)

    key = (d / "conformance/managed-key-happy-path/key.pub").read_bytes()
    return [
        Case("conformance happy path v0.3", (d / "conformance/a.txt").read_bytes(),
             sig_of(happy), key, False, happy, ms),
        Case("conformance staging-logged v0.3", (d / "conformance/a.txt").read_bytes(),
             sig_of(staging), key, False, staging, ms),
        Case("sigstore-go key bundle, no tlog", b"test content", sig_of(go),
             (d / "sigstore-go/public-key-validity.pem").read_bytes(), False, go, ms),
        Case("sigstore-python detached .sig + .crt", (sp / "a.txt").read_bytes(),
             decode_signature((sp / "a.txt.sig").read_bytes()),
             _cert_der((sp / "a.txt.crt").read_bytes()), True),
        Case("sigstore-python keyless v0.1 bundle", (sp / "bundle.txt").read_bytes(),
             sig_of(b01), cert_of(b01), True, b01, ms),
        Case("sigstore-python keyless v0.3 bundle", (sp / "bundle_v3.txt").read_bytes(),
             sig_of(b03), cert_of(b03), True, b03, ms),
        Case("legacy cosign sign-blob --bundle", b"something\n", sig_of(legacy),
             cert_of(legacy), True, legacy, ("base64Signature",)),
    ]  # fmt: skip


CASE_NAMES = [
    "conformance happy path v0.3",
    "conformance staging-logged v0.3",
    "sigstore-go key bundle, no tlog",
    "sigstore-python detached .sig + .crt",
    "sigstore-python keyless v0.1 bundle",
    "sigstore-python keyless v0.3 bundle",
    "legacy cosign sign-blob --bundle",
]


@pytest.fixture
def cases(cosign_dir) -> dict[str, Case]:
    return {c.name: c for c in valid_cases(cosign_dir)}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_valid_fixture_verifies(cases, name):
    verdict = cases[name].verdict()
    assert verdict.verified, verdict.reason


def _flipped_key(case: Case) -> bytes:
    """The key (or certificate) with one byte of its public point changed."""
    if case.keyless:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(case.key)
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        at = case.key.index(spki) + len(spki) - 1
        return flip(case.key, at)
    der = load_public_key(case.key).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = base64.encodebytes(flip(der, len(der) - 1))
    return b"-----BEGIN PUBLIC KEY-----\n" + body + b"-----END PUBLIC KEY-----\n"


FLIPS: dict[str, Callable[[Case], dict]] = {
    "artifact": lambda c: {"artifact": flip(c.artifact, len(c.artifact) // 2)},
    "signature": lambda c: {"signature": flip(c.signature, len(c.signature) // 2)},
    "key": lambda c: {"key": _flipped_key(c)},
}
READABLE = (
    "does not match this artifact",
    "different artifact",
    "public key",
    "signed by another key",
    "certificate",
)


@pytest.mark.parametrize("part", sorted(FLIPS))
@pytest.mark.parametrize("name", CASE_NAMES)
def test_one_flipped_byte_fails_with_a_reason(cases, name, part):
    case = cases[name]
    try:
        verdict = case.verdict(**FLIPS[part](case))
    except InputError as exc:  # e.g. the changed key is no longer a point on the curve
        reason = str(exc)
    else:
        assert not verdict.verified, f"{part} changed but {name} still verified"
        reason = verdict.reason
    assert any(r in reason for r in READABLE), reason


def test_invalid_tampered_blob(cosign_dir):
    sp = cosign_dir / "sigstore-python"
    verdict = verify(
        sha256((sp / "bad.txt").read_bytes()),
        decode_signature((sp / "bad.txt.sig").read_bytes()),
        certificate=load_certificate((sp / "bad.txt.crt").read_bytes()),
        require_chain=False,
        require_identity=False,
    )
    assert not verdict.verified
    assert "does not match this artifact" in verdict.reason


def test_invalid_wrong_key_cannot_be_loaded(cosign_dir):
    with pytest.raises(InputError, match="not a valid PEM public key"):
        load_public_key(
            (cosign_dir / "conformance/managed-key-wrong-key_fail/key.pub").read_bytes()
        )


def test_valid_but_different_key_is_refused(cosign_dir):
    bundle = parse_bundle(
        (cosign_dir / "conformance/managed-key-happy-path/bundle.sigstore.json").read_bytes()
    )
    other = load_public_key((cosign_dir / "keys/cosign-test.pub").read_bytes())
    digest = sha256((cosign_dir / "conformance/a.txt").read_bytes())
    verdict = verify(digest, bundle=bundle, keys=[TrustedKey("cosign-test.pub", other)])
    assert not verdict.verified and "signed by another key" in verdict.reason
    # Without the hint the signature itself is what fails.
    raw = dict(bundle.raw, verificationMaterial={"publicKey": {}})
    no_hint = parse_bundle(raw)
    verdict = verify(digest, bundle=no_hint, keys=[TrustedKey("other", other)])
    assert not verdict.verified and "does not match this artifact" in verdict.reason


def test_hint_and_fingerprint_match_the_bundle(cosign_dir):
    key = load_public_key((cosign_dir / "sigstore-go/public-key-validity.pem").read_bytes())
    doc = json.loads((cosign_dir / "sigstore-go/public-key-validity.sigstore.json").read_text())
    assert key_hint(key) == doc["verificationMaterial"]["publicKey"]["hint"]
    assert key_fingerprint(key).startswith("sha256:") and len(key_fingerprint(key)) == 71


def test_certificate_identity_is_reported(cosign_dir):
    sp = cosign_dir / "sigstore-python"
    cert = load_certificate((sp / "a.txt.crt").read_bytes())
    assert certificate_identity(cert) == (
        "william@yossarian.net",
        "https://github.com/login/oauth",
    )


def test_keyless_without_chain_is_not_verified(cosign_dir):
    sp = cosign_dir / "sigstore-python"
    verdict = verify(
        sha256((sp / "a.txt").read_bytes()),
        decode_signature((sp / "a.txt.sig").read_bytes()),
        certificate=load_certificate((sp / "a.txt.crt").read_bytes()),
        identities=[
            CosignIdentity(subject="william@yossarian.net", issuer="https://github.com/login/oauth")
        ],
    )
    assert not verdict.verified
    assert verdict.identity == "william@yossarian.net"
    assert "certificate chain to a Fulcio root" in verdict.not_checked


# --- Sigstore: full offline verification against a trusted root file ------------------


def _root(instance: str) -> Path:
    pytest.importorskip("sigstore", reason="the optional sigstore library is not installed")
    from importlib.resources import files

    path = Path(
        str(
            files("sigstore")
            / "_store"
            / f"https%3A%2F%2Ftuf-repo-{instance}"
            / "trusted_root.json"
        )
    )
    if not path.is_file():
        pytest.skip(f"sigstore ships no trusted root for {instance}")
    return path


KEYLESS_BUNDLES = [
    ("bundle.txt", "a@tny.town"),
    ("bundle_v3.txt", "william@yossarian.net"),
]
GITHUB = "https://github.com/login/oauth"


@pytest.mark.parametrize(("blob", "identity"), KEYLESS_BUNDLES)
def test_keyless_bundle_full_verification_offline(cosign_dir, blob, identity):
    sp = cosign_dir / "sigstore-python"
    digest = sha256((sp / blob).read_bytes())
    bundle = parse_bundle((sp / f"{blob}.sigstore").read_bytes())
    root = _root("cdn.sigstage.dev")  # sigstore-python's test assets were signed on staging
    ok = verify(
        digest,
        bundle=bundle,
        identities=[CosignIdentity(subject=identity, issuer=GITHUB)],
        trusted_root=root,
    )
    assert ok.verified, ok.reason
    assert any("certificate chain" in c for c in ok.checked)
    # The production root does not vouch for a staging certificate.
    prod = verify(
        digest,
        bundle=bundle,
        identities=[CosignIdentity(subject=identity, issuer=GITHUB)],
        trusted_root=_root("cdn.sigstore.dev"),
    )
    assert not prod.verified and "Sigstore verification" in prod.reason
    # A trusted chain is not enough: the identity must be one the policy names.
    stranger = verify(
        digest,
        bundle=bundle,
        identities=[CosignIdentity(subject="eve@example.com", issuer=GITHUB)],
        trusted_root=root,
    )
    assert not stranger.verified and "not an identity the policy trusts" in stranger.reason


# --- keys and signing -----------------------------------------------------------------


ENCRYPTED_KEYS = [
    ("keys/cosign_generated_encrypted_empty_private.key", b""),
    ("keys/ecdsa_encrypted_private.key", b"123"),
    ("extracted-from-source/cosign-keys_test-pemsigstorekey.key", b"hello"),
]


@pytest.mark.parametrize(("path", "password"), ENCRYPTED_KEYS)
def test_encrypted_keys_sign_what_verify_accepts(cosign_dir, path, password):
    key = load_private_key((cosign_dir / path).read_bytes(), password)
    artifact = b"model weights\n"
    signature = sign_blob(key, artifact)
    der = base64.b64decode(signature)
    assert der[0] == 0x30  # base64 of ASN.1 DER, as cosign writes
    pub = TrustedKey("k", key.public_key())
    assert verify(sha256(artifact), der, keys=[pub]).verified
    assert not verify(sha256(artifact + b"x"), der, keys=[pub]).verified


@pytest.mark.parametrize(
    ("path", "password"),
    [
        ("keys/cosign-test.key", b""),
        ("keys/cosign-test.key", b"hello"),
        ("keys/ecdsa_encrypted_private.key", b"1234"),
        ("keys/cosign_generated_encrypted_empty_private.key", b" "),
    ],
)
def test_wrong_password_is_a_clear_error(cosign_dir, path, password):
    with pytest.raises(WrongPassword, match="wrong password"):
        load_private_key((cosign_dir / path).read_bytes(), password)


def test_encrypted_key_without_password_asks_for_cosign_password(cosign_dir):
    with pytest.raises(InputError, match="COSIGN_PASSWORD"):
        load_private_key((cosign_dir / "keys/ecdsa_encrypted_private.key").read_bytes(), None)


def test_plain_pkcs8_key_signs():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    loaded = load_private_key(pem, None)
    sig = base64.b64decode(sign_blob(loaded, b"abc"))
    assert verify(sha256(b"abc"), sig, keys=[TrustedKey("k", key.public_key())]).verified


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("not base64!", "not base64"), (base64.b64encode(b"hello").decode(), "DER")],
)
def test_bad_signature_text(text, message):
    with pytest.raises(InputError, match=message):
        decode_signature(text)


def test_signature_whitespace_is_ignored(cosign_dir):
    raw = (cosign_dir / "sigstore-python/a.txt.sig").read_bytes()
    assert raw.endswith(b"\n")
    assert decode_signature(raw) == decode_signature(b"  " + raw.strip() + b"\r\n")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"{", "not valid JSON"),
        (b'{"mediaType": "text/plain"}', "not a Sigstore bundle"),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": {}}',
            "DSSE",
        ),
        (
            b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", '
            b'"verificationMaterial": {}}',
            "malformed",
        ),
    ],
)
def test_bad_bundles(doc, message):
    with pytest.raises(InputError, match=message):
        parse_bundle(doc)


def test_parse_digest():
    assert parse_digest("sha256:" + "ab" * 32) == bytes.fromhex("ab" * 32)
    with pytest.raises(InputError, match="not a sha256 digest"):
        parse_digest("sha256:abc")


# --- Rekor signed entry timestamps and legacy bundles, offline ------------------------


def _prod_root() -> Path:
    root = default_trusted_root()
    if root is None:
        pytest.skip("the optional sigstore library (which ships the production root) is absent")
    return root


def test_key_bundle_rekor_set_is_checked_and_a_forged_one_fails(cosign_dir):
    conf = cosign_dir / "conformance"
    doc = json.loads((conf / "managed-key-happy-path/bundle.sigstore.json").read_text())
    key = load_public_key((conf / "managed-key-happy-path/key.pub").read_bytes())
    digest = sha256((conf / "a.txt").read_bytes())
    trusted = [TrustedKey("key.pub", key)]
    ok = verify(digest, bundle=parse_bundle(doc), keys=trusted, trusted_root=_prod_root())
    assert ok.verified, ok.reason
    assert any("Rekor signed entry timestamp (log index 771488337" in c for c in ok.checked)

    forged = copy.deepcopy(doc)
    entry = forged["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)
    bad = verify(digest, bundle=parse_bundle(forged), keys=trusted, trusted_root=_prod_root())
    assert not bad.verified and "not genuine" in bad.reason


def test_staging_logged_key_bundle_is_not_checked_against_production(cosign_dir):
    conf = cosign_dir / "conformance"
    bundle = parse_bundle((conf / "managed-key-and-trusted-root/bundle.sigstore.json").read_bytes())
    key = load_public_key((conf / "managed-key-and-trusted-root/key.pub").read_bytes())
    verdict = verify(
        sha256((conf / "a.txt").read_bytes()),
        bundle=bundle,
        keys=[TrustedKey("key.pub", key)],
        trusted_root=_prod_root(),
    )
    # The signature is what key-based verification rests on; the unknown log is reported.
    assert verdict.verified
    assert any("is not in the trusted root" in n for n in verdict.not_checked)


def test_legacy_cosign_bundle_full_offline_verification(cosign_dir):
    doc = json.loads(
        (
            cosign_dir / "extracted-from-source/sigstore-rs-cosign-sign-blob-legacy.bundle"
        ).read_text()
    )
    digest = sha256(b"something\n")
    who = [CosignIdentity(subject="daniel.bevenius@gmail.com", issuer=GITHUB)]
    ok = verify(digest, bundle=parse_bundle(doc), identities=who, trusted_root=_prod_root())
    assert ok.verified, ok.reason
    assert any("certificate chain to a Fulcio CA" in c for c in ok.checked)
    assert any("SCT" in n for n in ok.not_checked)

    staging = _root("cdn.sigstage.dev")
    wrong_root = verify(digest, bundle=parse_bundle(doc), identities=who, trusted_root=staging)
    assert not wrong_root.verified and "identity is not verified" in wrong_root.reason

    forged = copy.deepcopy(doc)
    forged["rekorBundle"]["Payload"]["logIndex"] += 1
    bad = verify(digest, bundle=parse_bundle(forged), identities=who, trusted_root=_prod_root())
    assert not bad.verified and "does not verify" in bad.reason
