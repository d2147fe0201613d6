"""Trivy reports gate as their SOURCES.md says, and bad input is never a pass."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.errors import InputError
from bot.supply_chain.policy import TrivyIgnore, TrivyPolicy
from bot.supply_chain.trivy import evaluate, parse_ignorefile, parse_report, scan

# file -> (severity counts, class counts, passes under the default policy)
# Figures transcribed from ../shared/fixtures/trivy/SOURCES.md.
EXPECTED = {
    "image-and-lang/alpine-39.json.golden": ({"CRITICAL": 2, "MEDIUM": 4}, {"vulnerability": 6}),
    "image-and-lang/alpine-39-high-critical.json.golden": (
        {"CRITICAL": 2},
        {"vulnerability": 2},
    ),
    "image-and-lang/alpine-39-ignore-cveids.json.golden": ({"MEDIUM": 2}, {"vulnerability": 2}),
    "image-and-lang/debian-buster.json.golden": (
        {"CRITICAL": 1, "LOW": 1},
        {"vulnerability": 2},
    ),
    "image-and-lang/centos-7.json.golden": ({"MEDIUM": 1, "LOW": 2}, {"vulnerability": 3}),
    "image-and-lang/mariner-1.0.json.golden": ({"HIGH": 1, "LOW": 1}, {"vulnerability": 2}),
    "image-and-lang/gomod.json.golden": ({"MEDIUM": 1, "UNKNOWN": 4}, {"vulnerability": 5}),
    "python/pip.json.golden": ({"HIGH": 1, "MEDIUM": 1}, {"vulnerability": 2}),
    "python/poetry.json.golden": ({"HIGH": 1}, {"vulnerability": 1}),
    "python/uv.json.golden": ({"HIGH": 1, "MEDIUM": 1}, {"vulnerability": 2}),
    "misconfig/dockerfile.json.golden": ({"HIGH": 1}, {"misconfiguration": 1}),
    "misconfig/terraform-remote-submodule.json.golden": (
        {"CRITICAL": 1, "LOW": 1},
        {"misconfiguration": 2},
    ),
    "secrets/secrets.json.golden": ({"CRITICAL": 1, "HIGH": 1}, {"secret": 2}),
    "clean/sl-micro-rancher5.4.json.golden": ({}, {}),
    "clean/cargo.lock.json.golden": ({}, {}),
    "clean/terraform-exclude-misconfs-remote-module.json.golden": ({}, {}),
    "clean/alpine-39-skip.json.golden": ({}, {}),
    "sarif/alpine-310.json.golden": ({"MEDIUM": 4}, {"vulnerability": 4}),
    "suppressed/npm-with-suppressed.json.golden": ({"HIGH": 1}, {"vulnerability": 1}),
    "legacy-format-2025-10/dockerfile.json.golden": ({"HIGH": 1}, {"misconfiguration": 1}),
    "legacy-format-2025-10/debian-buster.json.golden": (
        {"CRITICAL": 1, "LOW": 1},
        {"vulnerability": 2},
    ),
}
SEVS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
CLASSES = ("vulnerability", "misconfiguration", "secret")


def test_every_json_fixture_is_listed(trivy_dir):
    on_disk = {str(p.relative_to(trivy_dir)) for p in trivy_dir.rglob("*.json.golden")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_counts_and_verdict(trivy_dir, name):
    severities, classes = EXPECTED[name]
    data = (trivy_dir / name).read_bytes()
    result = scan(data, TrivyPolicy())
    assert result.counts == {s: severities.get(s, 0) for s in SEVS}
    assert result.classes == {c: classes.get(c, 0) for c in CLASSES}
    blocking_expected = severities.get("CRITICAL", 0) + severities.get("HIGH", 0)
    assert len(result.blocking) == blocking_expected
    assert result.passed is (blocking_expected == 0)
    ev = result.evidence()
    assert ev.passed is result.passed
    assert ev.report_sha256 == __import__("hashlib").sha256(data).hexdigest()
    assert ev.blocking == sorted({f.id for f in result.blocking})


def test_blocking_finding_has_package_versions_target_and_link(trivy_dir):
    result = scan(
        (trivy_dir / "image-and-lang/debian-buster.json.golden").read_bytes(), TrivyPolicy()
    )
    (f,) = result.blocking
    assert (f.id, f.package, f.installed, f.fixed) == (
        "CVE-2019-18224",
        "libidn2-0",
        "2.0.5-1",
        "2.0.5-1+deb10u1",
    )
    assert f.target.startswith("testdata/fixtures/images/debian-buster.tar.gz")
    assert f.url and "cve-2019-18224" in f.url.lower()


@pytest.mark.parametrize(
    ("name", "passes_with_ignore_unfixed"),
    [
        # HIGH vim has Status affected and no FixedVersion: no fix, so it stops blocking.
        ("image-and-lang/mariner-1.0.json.golden", True),
        # The CRITICAL libidn2 has a fix: still blocks.
        ("image-and-lang/debian-buster.json.golden", False),
    ],
)
def test_ignore_unfixed(trivy_dir, name, passes_with_ignore_unfixed):
    data = (trivy_dir / name).read_bytes()
    assert scan(data, TrivyPolicy(ignore_unfixed=True)).passed is passes_with_ignore_unfixed


def test_no_fix_statuses(trivy_dir):
    report = parse_report((trivy_dir / "image-and-lang/centos-7.json.golden").read_bytes())
    bash = next(f for f in report.findings if f.id == "CVE-2019-18276")
    assert bash.status == "will_not_fix" and not bash.has_fix
    # Blocking LOW too: the will_not_fix one is dropped only with ignore_unfixed.
    strict = TrivyPolicy(blocking_severities=["LOW"])
    assert {f.id for f in evaluate(report, strict).blocking} == {"CVE-2018-0734", "CVE-2019-18276"}
    relaxed = strict.model_copy(update={"ignore_unfixed": True})
    assert {f.id for f in evaluate(report, relaxed).blocking} == {"CVE-2018-0734"}


def test_severity_list_changes_what_blocks(trivy_dir):
    data = (trivy_dir / "image-and-lang/gomod.json.golden").read_bytes()
    assert scan(data, TrivyPolicy()).passed
    result = scan(data, TrivyPolicy(blocking_severities=["UNKNOWN"]))
    assert len(result.blocking) == 4


def test_suppressed_findings_do_not_count(trivy_dir):
    report = parse_report((trivy_dir / "suppressed/npm-with-suppressed.json.golden").read_bytes())
    assert report.suppressed == 1
    assert [f.id for f in report.findings] == ["CVE-2017-20165"]
    assert report.findings[0].fixed == "3.1.0, 2.6.9"


def test_legacy_misconfig_ids_match_both_names(trivy_dir):
    legacy = (trivy_dir / "legacy-format-2025-10/dockerfile.json.golden").read_bytes()
    current = (trivy_dir / "misconfig/dockerfile.json.golden").read_bytes()
    for data in (legacy, current):
        rules = parse_ignorefile("AVD-DS-0002\n", ".trivyignore")
        assert scan(data, TrivyPolicy()).passed is False
        assert evaluate(parse_report(data), TrivyPolicy(), rules).passed


TODAY = dt.date(2026, 6, 1)


def test_plain_ignorefile_fixture_semantics(trivy_dir):
    rules = parse_ignorefile((trivy_dir / "ignorefiles/.trivyignore").read_text(), ".trivyignore")
    by_id = {r.id: r for r in rules}
    assert set(by_id) == {
        "CVE-2019-0001",
        "CVE-2019-0002",
        "CVE-2019-0004",
        "CVE-2019-0005",
        "CVE-2019-0006",
        "ID300",
        "AVD-ID400",
        "generic-unwanted-rule",
        "GPL-3.0",
    }
    assert by_id["CVE-2019-0004"].expired(TODAY)
    assert not by_id["CVE-2019-0005"].expired(TODAY)
    assert by_id["CVE-2019-0006"].expires == dt.date(9999, 1, 1)


def test_yaml_ignorefile_fixture_semantics(trivy_dir):
    rules = parse_ignorefile(
        (trivy_dir / "ignorefiles/.trivyignore.yaml").read_text(), ".trivyignore.yaml"
    )
    vulns = {r.id: r for r in rules if r.cls == "vulnerability"}
    assert len(vulns) == 7
    assert vulns["CVE-2019-0005"].expired(TODAY) and vulns["CVE-2019-0006"].expired(TODAY)
    assert not vulns["CVE-2019-0003"].expired(TODAY)
    assert vulns["CVE-2019-0001"].paths == ("**/*-lock.json",)
    assert len([r for r in rules if r.cls == "misconfiguration"]) == 4
    assert len([r for r in rules if r.cls == "secret"]) == 3


def _alpine(trivy_dir) -> bytes:
    return (trivy_dir / "image-and-lang/alpine-39.json.golden").read_bytes()


def test_trivyignore_with_future_expiry_ignores_and_expired_one_does_not(trivy_dir):
    data = _alpine(trivy_dir)
    live = scan(data, TrivyPolicy(), [(".trivyignore", "CVE-2019-14697 exp:2099-01-01\n")])
    assert live.passed and len(live.ignored) == 2
    assert live.counts["CRITICAL"] == 0
    stale = scan(
        data, TrivyPolicy(), [(".trivyignore", "CVE-2019-14697 exp:2020-01-01\n")], today=TODAY
    )
    assert not stale.passed
    assert [r.id for r in stale.expired_ignores] == ["CVE-2019-14697"]


def test_expiry_day_itself_no_longer_ignores(trivy_dir):
    data = _alpine(trivy_dir)
    ign = [(".trivyignore", f"CVE-2019-14697 exp:{TODAY.isoformat()}\n")]
    assert not scan(data, TrivyPolicy(), ign, today=TODAY).passed
    assert scan(data, TrivyPolicy(), ign, today=TODAY - dt.timedelta(days=1)).passed


def test_yaml_ignore_paths_and_purls(trivy_dir):
    data = _alpine(trivy_dir)
    musl_only = (
        "vulnerabilities:\n  - id: CVE-2019-14697\n    purls: ['pkg:apk/alpine/musl@1.1.20-r4']\n"
    )
    result = scan(data, TrivyPolicy(), [(".trivyignore.yaml", musl_only)])
    assert [f.package for f in result.blocking] == ["musl-utils"]
    wrong_path = "vulnerabilities:\n  - id: CVE-2019-14697\n    paths: ['other/**']\n"
    assert len(scan(data, TrivyPolicy(), [(".trivyignore.yaml", wrong_path)]).blocking) == 2
    glob = "vulnerabilities:\n  - id: CVE-2019-14697\n    paths: ['**/*.tar.gz*']\n"
    assert scan(data, TrivyPolicy(), [(".trivyignore.yaml", glob)]).passed
    # A misconfiguration entry never ignores a vulnerability with the same id.
    other_class = "misconfigurations:\n  - id: CVE-2019-14697\n"
    assert not scan(data, TrivyPolicy(), [(".trivyignore.yaml", other_class)]).passed


def test_policy_ignores_with_reason_and_expiry(trivy_dir):
    data = _alpine(trivy_dir)
    ok = TrivyPolicy(ignores=[TrivyIgnore(id="CVE-2019-14697", reason="musl not reachable")])
    result = scan(data, ok)
    assert result.passed
    assert {rule.reason for _, rule in result.ignored} == {"musl not reachable"}
    old = TrivyPolicy(
        ignores=[TrivyIgnore(id="CVE-2019-14697", reason="r", expires=dt.date(2021, 1, 1))]
    )
    result = scan(data, old, today=TODAY)
    assert not result.passed and result.expired_ignores[0].source == "policy"


def test_bad_exp_date_is_an_input_error():
    with pytest.raises(InputError, match="exp:YYYY-MM-DD"):
        parse_ignorefile("CVE-1 exp:2020-13-45\n", ".trivyignore")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b'{"SchemaVersion": 2, "ArtifactName": "x", "Results": [', "not valid JSON"),
        (b'{"SchemaVersion": 3, "ArtifactName": "x"}', "SchemaVersion 3"),
        (b'{"SchemaVersion": 1, "ArtifactName": "x"}', "SchemaVersion 1"),
        (b'{"SchemaVersion": true, "ArtifactName": "x"}', "SchemaVersion"),
        (b'{"name": "package.json", "version": "1.0.0"}', "no SchemaVersion"),
        (b"[1, 2, 3]", "not a JSON object"),
        (b'{"SchemaVersion": 2, "ArtifactName": "x", "Results": {}}', "not a list"),
        (
            b'{"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", '
            b'"Vulnerabilities": [{"VulnerabilityID": "C", "Severity": "SEVERE"}]}]}',
            "unknown severity",
        ),
    ],
)
def test_bad_reports_are_input_errors(data, message):
    with pytest.raises(InputError, match=message):
        parse_report(data)


def test_truncated_real_report_is_an_input_error(trivy_dir):
    data = _alpine(trivy_dir)
    with pytest.raises(InputError, match="truncated"):
        parse_report(data[: len(data) // 2])


def test_sarif_is_refused_with_a_hint(trivy_dir):
    with pytest.raises(InputError, match="SARIF"):
        parse_report((trivy_dir / "sarif/alpine-310.sarif.golden").read_bytes())


def test_report_without_results_key_is_clean_not_an_error(trivy_dir):
    doc = json.loads((trivy_dir / "clean/alpine-39-skip.json.golden").read_bytes())
    assert "Results" not in doc
    assert parse_report(json.dumps(doc).encode()).findings == ()
