"""`mlbot scan-gate`, `verify-blob` and `sign-blob` as a user runs them: exit codes and output."""

from __future__ import annotations

import json

import pytest

from bot.cli import main

GITHUB = "https://github.com/login/oauth"


def test_scan_gate_blocks_and_prints_the_finding(trivy_dir, capsys):
    rc = main(["scan-gate", str(trivy_dir / "image-and-lang/debian-buster.json.golden")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "BLOCKED" in out
    assert "CVE-2019-18224 in libidn2-0 2.0.5-1 (fixed in: 2.0.5-1+deb10u1)" in out
    assert "https://avd.aquasec.com/nvd/cve-2019-18224" in out


def test_scan_gate_passes_clean_and_writes_json_evidence(trivy_dir, capsys):
    rc = main(["scan-gate", str(trivy_dir / "clean/sl-micro-rancher5.4.json.golden"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["passed"] is True and doc["blocking"] == []
    assert sum(doc["counts"].values()) == 0 and len(doc["report_sha256"]) == 64


def test_scan_gate_flags(trivy_dir, capsys):
    report = str(trivy_dir / "image-and-lang/mariner-1.0.json.golden")
    assert main(["scan-gate", report]) == 1
    assert main(["scan-gate", report, "--ignore-unfixed"]) == 0
    assert main(["scan-gate", report, "--severity", "CRITICAL"]) == 0
    assert main(["scan-gate", report, "--severity", "low", "--ignore-unfixed"]) == 1
    assert main(["scan-gate", report, "--severity", "SEVERE"]) == 2
    assert "--severity" in capsys.readouterr().err


def test_scan_gate_ignorefile_expired_is_reported(trivy_dir, tmp_path, capsys):
    ign = tmp_path / ".trivyignore"
    ign.write_text("# accepted until the base image moves\nCVE-2019-18224 exp:2020-01-01\n")
    report = str(trivy_dir / "image-and-lang/debian-buster.json.golden")
    rc = main(["scan-gate", report, "--ignorefile", str(ign), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert doc["expired_ignores"] == [
        {"id": "CVE-2019-18224", "expires": "2020-01-01", "source": ".trivyignore:2"}
    ]
    ign.write_text("CVE-2019-18224 exp:2999-01-01\n")
    assert main(["scan-gate", report, "--ignorefile", str(ign)]) == 0
    assert "Ignored (1)" in capsys.readouterr().out


def test_scan_gate_policy_file(trivy_dir, tmp_path, capsys):
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "schema: mlbot/v1\nsupply_chain:\n  trivy:\n    blocking_severities: [MEDIUM]\n"
        "    ignores:\n      - {id: CVE-2019-1551, reason: not reachable, expires: 2999-01-01}\n"
    )
    report = str(trivy_dir / "image-and-lang/alpine-39.json.golden")
    assert main(["scan-gate", report, "--policy", str(policy)]) == 1
    out = capsys.readouterr().out
    assert "CVE-2019-1549" in out.split("Blocking findings")[1]
    assert "not reachable" in out
    policy.write_text("trivy:\n  blocking_severities: nope\n")
    assert main(["scan-gate", report, "--policy", str(policy)]) == 2


@pytest.mark.parametrize(
    "content", [b"", b'{"SchemaVersion": 2, "Results": [', b'{"SchemaVersion": 9}', b"{}"]
)
def test_scan_gate_bad_input_is_exit_2(tmp_path, content, capsys):
    report = tmp_path / "report.json"
    report.write_bytes(content)
    assert main(["scan-gate", str(report)]) == 2
    assert capsys.readouterr().err.startswith("mlbot: error: ")


def test_scan_gate_missing_file(tmp_path, capsys):
    assert main(["scan-gate", str(tmp_path / "nope.json")]) == 2
    assert "cannot read Trivy report" in capsys.readouterr().err


def test_scan_gate_markdown_section(trivy_dir, tmp_path):
    md = tmp_path / "scan.md"
    main(["scan-gate", str(trivy_dir / "secrets/secrets.json.golden"), "--markdown", str(md)])
    text = md.read_text()
    assert text.startswith("### ❌ mlbot scan: 2 blocking findings")
    assert "| secret | 1 | 1 | 0 | 0 | 0 |" in text
    assert "`deploy.sh`:3" in text


# --- verify-blob ----------------------------------------------------------------------


def test_verify_blob_bundle_and_digest_only(cosign_dir, capsys):
    conf = cosign_dir / "conformance"
    key = str(conf / "managed-key-happy-path/key.pub")
    bundle = str(conf / "managed-key-happy-path/bundle.sigstore.json")
    assert main(["verify-blob", str(conf / "a.txt"), "--key", key, "--bundle", bundle]) == 0
    assert "Verified OK" in capsys.readouterr().out
    digest = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"
    assert main(["verify-blob", "--digest", digest, "--key", key, "--bundle", bundle]) == 0
    other = str(cosign_dir / "keys/cosign-test.pub")
    assert main(["verify-blob", "--digest", digest, "--key", other, "--bundle", bundle]) == 1
    assert "signed by another key" in capsys.readouterr().out
    wrong = str(conf / "managed-key-wrong-key_fail/key.pub")
    assert main(["verify-blob", "--digest", digest, "--key", wrong, "--bundle", bundle]) == 2


def test_sign_then_verify_with_cosign_key(cosign_dir, tmp_path, monkeypatch, capsys):
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(b"onnx bytes")
    key = str(cosign_dir / "keys/ecdsa_encrypted_private.key")
    sig = tmp_path / "model.onnx.sig"
    monkeypatch.setenv("COSIGN_PASSWORD", "123")
    assert main(["sign-blob", str(artifact), "--key", key, "--output-signature", str(sig)]) == 0
    assert not sig.read_bytes().endswith(b"\n")  # cosign writes no newline either
    # The public half, as `cosign public-key` would print it.
    from bot.supply_chain.keys import load_private_key, public_pem

    pub = tmp_path / "cosign.pub"
    pub.write_text(
        public_pem(
            load_private_key(
                (cosign_dir / "keys/ecdsa_encrypted_private.key").read_bytes(), b"123"
            ).public_key()
        )
    )
    args = ["verify-blob", str(artifact), "--key", str(pub), "--signature", str(sig)]
    assert main(args) == 0
    artifact.write_bytes(b"onnx bytez")
    assert main(args) == 1
    assert "does not match this artifact" in capsys.readouterr().out

    monkeypatch.setenv("COSIGN_PASSWORD", "wrong")
    assert main(["sign-blob", str(artifact), "--key", key]) == 2
    assert "wrong password" in capsys.readouterr().err
    monkeypatch.delenv("COSIGN_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert main(["sign-blob", str(artifact), "--key", key]) == 2
    assert "COSIGN_PASSWORD" in capsys.readouterr().err


def test_sign_blob_prints_signature_to_stdout_for_empty_password_key(
    cosign_dir, tmp_path, monkeypatch, capsys
):
    artifact = tmp_path / "a.bin"
    artifact.write_bytes(b"x")
    monkeypatch.setenv("COSIGN_PASSWORD", "")
    key = str(cosign_dir / "keys/cosign_generated_encrypted_empty_private.key")
    assert main(["sign-blob", str(artifact), "--key", key]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("ME")  # base64 of DER SEQUENCE (0x30 0x4x)


def test_verify_blob_keyless(cosign_dir, capsys):
    sp = cosign_dir / "sigstore-python"
    base = ["verify-blob", str(sp / "a.txt"), "--signature", str(sp / "a.txt.sig"),
            "--certificate", str(sp / "a.txt.crt")]  # fmt: skip
    assert main(base) == 1
    out = capsys.readouterr().out
    assert "william@yossarian.net" in out and "NOT verified" in out
    assert main([*base, "--insecure-signature-only"]) == 0
    assert "NOT checked: certificate chain" in capsys.readouterr().out
    bad = ["verify-blob", str(sp / "bad.txt"), "--signature", str(sp / "bad.txt.sig"),
           "--certificate", str(sp / "bad.txt.crt"), "--insecure-signature-only"]  # fmt: skip
    assert main(bad) == 1


def test_verify_blob_keyless_bundle_with_trusted_root(cosign_dir, capsys):
    pytest.importorskip("sigstore", reason="the optional sigstore library is not installed")
    from importlib.resources import files

    root = (
        files("sigstore")
        / "_store"
        / "https%3A%2F%2Ftuf-repo-cdn.sigstage.dev"
        / "trusted_root.json"
    )
    sp = cosign_dir / "sigstore-python"
    args = ["verify-blob", str(sp / "bundle.txt"), "--bundle", str(sp / "bundle.txt.sigstore"),
            "--certificate-identity", "a@tny.town", "--certificate-oidc-issuer", GITHUB,
            "--trusted-root", str(root), "--json"]  # fmt: skip
    assert main(args) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["verified"] and verdict["identity"] == "a@tny.town"
    args[args.index("a@tny.town")] = "someone@else"
    assert main(args) == 1


@pytest.mark.parametrize(
    "extra",
    [
        [],  # neither ARTIFACT nor --digest
        ["--digest", "sha256:1234"],
    ],
)
def test_verify_blob_usage_errors(cosign_dir, extra, capsys):
    sig = str(cosign_dir / "sigstore-python/a.txt.sig")
    key = str(cosign_dir / "keys/cosign-test.pub")
    assert main(["verify-blob", *extra, "--key", key, "--signature", sig]) == 2
