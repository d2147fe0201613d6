"""The step summaries the actions write, from real CLI runs, rendered as GitHub renders them.

`mlbot validate` and `mlbot scan-gate` run for real (the validate one on data
that breaks its contract, the scan one on a Trivy report with blocking
findings); their `$GITHUB_STEP_SUMMARY` and `--markdown` output go through
cmark-gfm and GitHub's CSS in Chromium, and a reader's checks apply: the
first line is the status, nothing leaks, every table is whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.rendering.github_page import GitHubRenderer

ROOT = Path(__file__).resolve().parents[2]
TRIVY = ROOT.parent / "shared" / "fixtures" / "trivy"


def validate_summary(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    data = tmp / "cities.csv"
    data.write_text("city,n\nparis,1\nx | y,2\n@octocat,3\n")
    contract = tmp / "contract.yaml"
    contract.write_text("columns: {city: {dtype: string, allowed: [paris]}, n: {dtype: int}}\n")
    summary = tmp / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code = main(["validate", "--repo", str(tmp), "--contract", str(contract), str(data)])
    assert code == 1
    return summary.read_text()


def scan_summary(tmp: Path) -> str:
    report = TRIVY / "image-and-lang" / "alpine-39.json.golden"
    if not report.is_file():
        pytest.skip(f"../shared/fixtures not present: {report} is missing (CI always has it)")
    markdown = tmp / "scan.md"
    code = main(["scan-gate", str(report), "--json", "--markdown", str(markdown)])
    assert code == 1
    return markdown.read_text()


def test_the_validate_summary_opens_with_its_status_and_renders_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github_renderer: GitHubRenderer
) -> None:
    page = github_renderer.render(validate_summary(tmp_path, monkeypatch))
    assert page.problems() == []
    assert page.first_line() == "❌ mlbot validate: 1 violation"
    assert page.table_headers() == [
        ["file", "rows", "columns"],
        ["file", "column", "rule", "count", "examples", "problem"],
    ]
    assert str(tmp_path) not in page.text and "cities.csv" in page.text


def test_the_scan_summary_opens_with_its_status_and_renders_whole(
    tmp_path: Path, github_renderer: GitHubRenderer
) -> None:
    page = github_renderer.render(scan_summary(tmp_path))
    assert page.problems() == []
    assert page.first_line() == "❌ mlbot scan: 2 blocking findings"
    headers = page.table_headers()
    assert headers[0][0] == "class" and headers[0][1:] == [
        "CRITICAL",
        "HIGH",
        "MEDIUM",
        "LOW",
        "UNKNOWN",
    ]
    assert headers[1] == ["severity", "id", "package", "installed", "fixed", "target"]
