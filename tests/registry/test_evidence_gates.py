"""Signature and scan evidence recorded at registration gate promotions (strict pack)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.gitrepo import make_repo

TRIVY = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "trivy"


def keypair(dirpath: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = dirpath / f"{name}.key"
    public = dirpath / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def report(path: str) -> Path:
    full = TRIVY / path
    if not full.is_file():
        pytest.skip(f"../shared/fixtures not present: {full} is missing (CI always has it)")
    return full


@pytest.fixture
def strict_repo(tmp_path, capsys):
    keys = tmp_path / "keys"
    keys.mkdir()
    trusted = keypair(keys, "release")
    stranger = keypair(keys, "stranger")
    repo = make_repo(
        tmp_path / "repo",
        capsys,
        policy="strict",
        overrides="{supply_chain: {cosign: {trusted_keys: [keys/release.pub]}}}",
    )
    (repo.root / "keys").mkdir()
    (repo.root / "keys" / "release.pub").write_bytes(trusted[1].read_bytes())
    repo.git("add", "keys")
    repo.git("commit", "-q", "-m", "trust the release key")
    return repo, trusted, stranger


def register_signed(repo, key: Path, pub: Path, scan: Path, content: str) -> str:
    art = repo.artifact(content)
    sig = repo.root / "model.sig"
    signed = repo.mlbot(
        "sign-blob", str(art), "--key", str(key), "--output-signature", str(sig), repo=False
    )
    assert signed.code == 0, signed.err
    res = repo.ok(
        "registry",
        "register",
        "churn",
        "--artifact",
        str(art),
        "--signature",
        str(sig),
        "--key",
        str(pub),
        "--scan-report",
        str(scan),
        "--json",
    )
    return res.json()["version"]


def test_trusted_signature_and_clean_scan_pass_the_strict_gates(strict_repo):
    repo, (key, pub), _ = strict_repo
    version = register_signed(repo, key, pub, report("clean/cargo.lock.json.golden"), "w1")
    record = (repo.root / f"registry/churn/versions/{version}.yaml").read_text()
    assert "kind: key" in record and "report_sha256:" in record
    res = repo.mlbot("registry", "promote", "churn", version, "--to", "staging", "--json")
    # Approvals and CI checks are the bot's to enforce; everything local passed.
    assert res.code == 0, res.err
    checks = {c["name"]: c["status"] for c in res.json()["checks"]}
    assert checks["signature"] == "pass" and checks["scan"] == "pass"
    assert checks["approvals"] == "skip" and checks["required-checks"] == "skip"


def test_an_untrusted_key_and_blocking_findings_are_refused_with_reasons(strict_repo):
    repo, _, (key, pub) = strict_repo
    version = register_signed(
        repo, key, pub, report("image-and-lang/debian-buster.json.golden"), "w2"
    )
    res = repo.mlbot("registry", "promote", "churn", version, "--to", "staging")
    assert res.code == 1
    assert "signature:" in res.err and "scan: 1 blocking finding: CVE-2019-18224" in res.err
    assert "promote churn" not in repo.git("log", "-1", "--format=%s")


def test_a_signature_over_other_bytes_is_refused_at_registration(strict_repo):
    repo, (key, pub), _ = strict_repo
    art = repo.artifact("the real weights")
    sig = repo.root / "model.sig"
    assert (
        repo.mlbot(
            "sign-blob", str(art), "--key", str(key), "--output-signature", str(sig), repo=False
        ).code
        == 0
    )
    art.write_text("swapped weights")
    res = repo.mlbot(
        "registry",
        "register",
        "churn",
        "--artifact",
        str(art),
        "--signature",
        str(sig),
        "--key",
        str(pub),
    )
    assert res.code == 1
    assert repo.git("tag", "--list") == ""


def test_unsigned_version_cannot_enter_a_stage_that_requires_a_signature(strict_repo):
    repo, _, _ = strict_repo
    version = repo.register()
    res = repo.mlbot("registry", "promote", "churn", version, "--to", "staging")
    assert res.code == 1
    assert "signature: staging requires a signed artifact" in res.err
    assert "scan: staging requires a Trivy scan" in res.err
