"""The PR comment sections say the truth at a glance."""

from __future__ import annotations

import datetime as dt
import json

from bot.supply_chain.cosign.verification import SignatureVerdict
from bot.supply_chain.policy import TrivyPolicy
from bot.supply_chain.render import scan_markdown, signature_markdown, signature_text
from bot.supply_chain.trivy import scan


def test_scan_markdown_blocking_table_and_expired_ignore(trivy_dir):
    data = (trivy_dir / "image-and-lang/alpine-39.json.golden").read_bytes()
    result = scan(
        data,
        TrivyPolicy(),
        [(".trivyignore", "CVE-2019-14697 exp:2020-01-01\n")],
        today=dt.date(2026, 1, 1),
    )
    md = scan_markdown(result)
    assert md.startswith("### ❌ mlbot scan: 2 blocking findings")
    assert "| **total** | **2** | **0** | **4** | **0** | **0** |" in md
    row = next(line for line in md.splitlines() if "musl-utils" in line)
    assert "[CVE-2019-14697](https://avd.aquasec.com/nvd/cve-2019-14697)" in row
    assert "(ignore expired 2020-01-01)" in row and "1.1.20-r5" in row
    assert "Expired ignores, no longer applied: CVE-2019-14697" in md


def test_scan_markdown_passes_and_escapes_untrusted_text(trivy_dir):
    doc = json.loads((trivy_dir / "python/poetry.json.golden").read_bytes())
    vuln = doc["Results"][0]["Vulnerabilities"][0]
    vuln["PkgName"] = "evil|<img src=x>"
    result = scan(json.dumps(doc).encode(), TrivyPolicy())
    md = scan_markdown(result)
    assert "evil\\|&lt;img src=x&gt;" in md and "<img" not in md
    assert scan_markdown(scan(json.dumps(doc).encode(), TrivyPolicy(blocking_severities=[])))
    clean = scan_markdown(scan(json.dumps(doc).encode(), TrivyPolicy(blocking_severities=[])))
    assert clean.startswith("### ✅ mlbot scan: passed") and "Blocking findings" not in clean


def test_signature_sections_list_what_was_and_was_not_checked():
    verdict = SignatureVerdict(
        False,
        "the signature is valid for a@b.c (https://issuer), but no bundle was recorded",
        identity="a@b.c",
        issuer="https://issuer",
        kind="keyless",
        checked=["ECDSA-SHA256 signature with the certificate key of a@b.c"],
        not_checked=["certificate chain to a Fulcio root"],
    )
    md = signature_markdown(verdict)
    assert md.startswith("### ❌ mlbot signature: not verified")
    assert "Signer: `a@b.c`" in md
    assert "- ✘ not checked: certificate chain to a Fulcio root" in md
    ok = SignatureVerdict(
        True, "signature verified with keys/cosign.pub", key_fingerprint="sha256:ab"
    )
    assert signature_markdown(ok).startswith("### ✅ mlbot signature: verified")
    assert "key: sha256:ab" in signature_text(ok)
