"""The promotion gate's view: a registered version's evidence, checked from its digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.errors import InputError, Refused
from bot.policy.evidence import GateEvidence, SignatureStatus
from bot.policy.gates import scan_check, signature_check
from bot.policy.packs import load_pack
from bot.registry.schema import Artifact, Evidence, VersionRecord
from bot.supply_chain.collect import (
    file_sha256,
    scan_evidence_from_report,
    signature_evidence_from_files,
)
from bot.supply_chain.cosign import verify_recorded
from bot.supply_chain.cosign.signature import decode_signature, encode_signature, sign_blob
from bot.supply_chain.policy import CosignIdentity, CosignPolicy, TrivyPolicy


@pytest.fixture
def signed(tmp_path):
    """A repository with a trusted key, and an artifact signed with it."""
    repo = tmp_path / "repo"
    (repo / "keys").mkdir(parents=True)
    key = ec.generate_private_key(ec.SECP256R1())
    (repo / "keys/cosign.pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(b"\x80\x04 pretend pickle" * 100)
    (tmp_path / "model.pkl.sig").write_text(sign_blob(key, artifact.read_bytes()))
    digest = file_sha256(artifact)
    evidence = signature_evidence_from_files(
        digest, key_path=repo / "keys/cosign.pub", signature_path=tmp_path / "model.pkl.sig"
    )
    return repo, digest, evidence


def test_key_signature_verifies_from_digest(signed):
    repo, digest, evidence = signed
    assert evidence.kind == "key" and evidence.key_fingerprint.startswith("sha256:")
    policy = CosignPolicy(trusted_keys=["keys/cosign.pub"])
    verdict = verify_recorded(digest.removeprefix("sha256:"), evidence, policy, repo)
    assert verdict.verified, verdict.reason
    assert verdict.key_fingerprint == evidence.key_fingerprint


def test_inline_pem_key_is_trusted(signed):
    repo, digest, evidence = signed
    pem = (repo / "keys/cosign.pub").read_text()
    assert verify_recorded(digest, evidence, CosignPolicy(trusted_keys=[pem]), repo).verified


def test_untrusted_key_wrong_digest_or_tampered_record_are_refused(signed):
    repo, digest, evidence = signed
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    (repo / "keys/other.pub").write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    v = verify_recorded(digest, evidence, CosignPolicy(trusted_keys=["keys/other.pub"]), repo)
    assert not v.verified and "does not match" in v.reason

    policy = CosignPolicy(trusted_keys=["keys/cosign.pub"])
    v = verify_recorded("sha256:" + "0" * 64, evidence, policy, repo)
    assert not v.verified and "does not match" in v.reason

    der = bytearray(decode_signature(evidence.signature))
    der[len(der) // 2] ^= 1
    tampered = evidence.model_copy(update={"signature": encode_signature(bytes(der))})
    assert not verify_recorded(digest, tampered, policy, repo).verified

    v = verify_recorded(digest, evidence, CosignPolicy(), repo)
    assert not v.verified and "no trusted cosign key" in v.reason


def test_bad_policy_key_is_a_verdict_not_an_exception(signed):
    repo, digest, evidence = signed
    for entry in ("keys/missing.pub", "../outside.pub"):
        v = verify_recorded(digest, evidence, CosignPolicy(trusted_keys=[entry]), repo)
        assert not v.verified and "cannot be checked" in v.reason


def test_wrong_signature_is_refused_at_registration(signed, tmp_path):
    repo, _digest, _ = signed
    with pytest.raises(Refused, match="does not verify"):
        signature_evidence_from_files(
            "sha256:" + "1" * 64,
            key_path=repo / "keys/cosign.pub",
            signature_path=tmp_path / "model.pkl.sig",
        )
    with pytest.raises(InputError, match="exactly one"):
        signature_evidence_from_files("sha256:" + "1" * 64, key_path=repo / "keys/cosign.pub")


def test_bundle_evidence_from_fixture(cosign_dir, tmp_path):
    conf = cosign_dir / "conformance"
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(conf / "managed-key-happy-path/key.pub", repo / "signer.pub")
    digest = file_sha256(conf / "a.txt")
    evidence = signature_evidence_from_files(
        digest,
        key_path=conf / "managed-key-happy-path/key.pub",
        bundle_path=conf / "managed-key-happy-path/bundle.sigstore.json",
    )
    assert evidence.kind == "bundle" and evidence.bundle["mediaType"].endswith("v0.3+json")
    policy = CosignPolicy(trusted_keys=["signer.pub"])
    assert verify_recorded(digest, evidence, policy, repo).verified
    # The bundle names a.txt's digest: recorded against another artifact, it fails.
    v = verify_recorded("sha256:" + "2" * 64, evidence, policy, repo)
    assert not v.verified and "different artifact" in v.reason


def _staging_root(dest: Path) -> str:
    pytest.importorskip("sigstore", reason="the optional sigstore library is not installed")
    from importlib.resources import files

    src = (
        files("sigstore")
        / "_store"
        / "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev"
        / "trusted_root.json"
    )
    (dest / "sigstore").mkdir(parents=True, exist_ok=True)
    (dest / "sigstore/trusted_root.json").write_bytes(src.read_bytes())
    return "sigstore/trusted_root.json"


def test_keyless_bundle_needs_listed_identity_and_verified_chain(cosign_dir, tmp_path):
    sp = cosign_dir / "sigstore-python"
    digest = file_sha256(sp / "bundle_v3.txt")
    evidence = signature_evidence_from_files(digest, bundle_path=sp / "bundle_v3.txt.sigstore")
    assert evidence.kind == "keyless"
    assert (evidence.identity, evidence.issuer) == (
        "william@yossarian.net",
        "https://github.com/login/oauth",
    )
    me = CosignIdentity(subject="william@yossarian.net", issuer="https://github.com/login/oauth")
    v = verify_recorded(digest, evidence, CosignPolicy(), tmp_path)
    assert not v.verified and "trusts no keyless identity" in v.reason
    assert v.identity == "william@yossarian.net"

    root = _staging_root(tmp_path)
    policy = CosignPolicy(identities=[me], trusted_root=root)
    v = verify_recorded(digest, evidence, policy, tmp_path)
    assert v.verified, v.reason

    # Default (production) root: these staging certificates do not chain to it.
    v = verify_recorded(digest, evidence, CosignPolicy(identities=[me]), tmp_path)
    assert not v.verified and "identity is not verified" in v.reason


def test_detached_keyless_is_never_enough_for_an_identity(cosign_dir, tmp_path):
    sp = cosign_dir / "sigstore-python"
    digest = file_sha256(sp / "a.txt")
    evidence = signature_evidence_from_files(
        digest, signature_path=sp / "a.txt.sig", certificate_path=sp / "a.txt.crt"
    )
    me = CosignIdentity(subject="william@yossarian.net", issuer="https://github.com/login/oauth")
    v = verify_recorded(digest, evidence, CosignPolicy(identities=[me]), tmp_path)
    assert not v.verified
    assert "no bundle with a transparency log entry" in v.reason
    assert v.identity == "william@yossarian.net"


# --- the foundation's gates read this evidence -----------------------------------------


def _evidence(signature: SignatureStatus | None, scan) -> GateEvidence:
    return GateEvidence(stage="production", version="v1.0.0", signature=signature, scan=scan)


def test_promotion_gates_refuse_bad_signature_and_blocking_scan(signed, trivy_dir):
    repo, digest, evidence = signed
    strict = load_pack("strict")
    rule = strict.for_stage("production")
    assert rule.require_signature and rule.require_scan

    from bot.policy.collect import signature_status

    record = VersionRecord(
        model="fraud",
        version="v1.0.0",
        artifact=Artifact(uri="s3://m/model.pkl", sha256=digest.removeprefix("sha256:"), size=1),
        evidence=Evidence(
            signature=evidence,
            scan=scan_evidence_from_report(
                trivy_dir / "image-and-lang/debian-buster.json.golden", TrivyPolicy()
            ),
        ),
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        created_by="ci",
    )
    untrusted = signature_status(record, strict, repo)
    sig = signature_check(rule, _evidence(untrusted, record.evidence.scan))
    assert sig.status == "fail" and "no trusted cosign key" in sig.reason
    scan = scan_check(rule, _evidence(untrusted, record.evidence.scan))
    assert scan.status == "fail" and "CVE-2019-18224" in scan.reason

    trusting = strict.model_copy(
        update={
            "supply_chain": strict.supply_chain.model_copy(
                update={"cosign": CosignPolicy(trusted_keys=["keys/cosign.pub"])}
            )
        }
    )
    ok = signature_status(record, trusting, repo)
    assert signature_check(rule, _evidence(ok, None)).status == "pass"
    clean = scan_evidence_from_report(trivy_dir / "clean/cargo.lock.json.golden", TrivyPolicy())
    assert scan_check(rule, _evidence(ok, clean)).status == "pass"
    assert (
        clean.report_sha256
        == hashlib.sha256((trivy_dir / "clean/cargo.lock.json.golden").read_bytes()).hexdigest()
    )
