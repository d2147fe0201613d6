"""The step summaries the actions write, from real CLI runs, rendered as GitHub renders them.

`mlbot validate` and `mlbot scan-gate` run for real (the validate one on data
that breaks its contract, the scan one on a Trivy report with blocking
findings); their `$GITHUB_STEP_SUMMARY` and `--markdown` output go through
cmark-gfm and GitHub's CSS in Chromium, and a reader's checks apply: the
first line is the status, nothing leaks, every table is whole.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
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


# --- the root action's whole pipeline --------------------------------------------------------


@dataclass
class Pipeline:
    summary: str  # the job's summary, as GitHub shows it
    steps: dict[str, str]  # each step's own summary, by step name
    scanned: bool
    workspace: Path
    temp: Path


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The root action run for real (train, evaluate, scan-gate, sign with a key, verify) on
    the example, with a gate the candidate cannot meet and, when the shared Trivy reports are
    here, a report with a blocking finding: two steps fail, and the summary must say so first."""
    from bot.ml.example import materialize
    from tests.actions.runner import run_action
    from tests.actions.test_steps import MLBOT_ENV, TRIVY_STEP, signing_key

    tmp = tmp_path_factory.mktemp("pipeline")
    workspace = materialize(tmp / "workspace")
    config = workspace / ".github" / "mlbot.yml"
    config.write_text(config.read_text().replace("accuracy: {min: 0.9,", "accuracy: {min: 0.999,"))
    pem, _ = signing_key(tmp)
    # The trusted key is a file of the repository, as a user's `public-key: cosign.pub` is.
    shutil.move(tmp / "cosign.pub", workspace / "cosign.pub")
    report = TRIVY / "python" / "pip.json.golden"
    scanned = report.is_file()
    inputs = {"model": "cancer", "sign": "key", "key": pem, "public-key": "cosign.pub"}
    seed = {}
    if scanned:
        shutil.copy(report, tmp / "report.json")
        seed = {"trivy": {"report": str(tmp / "report.json"), "sarif": str(tmp / "r.sarif")}}
    else:
        inputs["scan"] = "false"
    temp = tmp / "runner-temp"
    run = run_action(
        ROOT,
        workspace,
        inputs,
        env=MLBOT_ENV,
        temp=temp,
        skip={**TRIVY_STEP, "install": "installs into the runner's Python"},
        seed=seed,
    )
    assert run.status == "failure", run.log
    [folder] = temp.glob("mlbot-summary.*")
    steps = {p.stem: p.read_text() for p in folder.glob("*.md")}
    return Pipeline(run.summary, steps, scanned, workspace, temp)


def no_runner_paths(page_text: str, pipeline: Pipeline) -> None:
    for path in (pipeline.workspace, pipeline.temp, pipeline.temp.parent):
        assert str(path) not in page_text


def test_the_pipeline_summary_opens_with_the_overall_status_and_what_to_do(
    pipeline: Pipeline, github_renderer: GitHubRenderer
) -> None:
    page = github_renderer.render(pipeline.summary)
    assert page.problems() == []
    failed = "evaluate and scan" if pipeline.scanned else "evaluate"
    assert page.first_line() == f"❌ mlbot pipeline: {failed} failed for cancer"
    text = page.text
    # What to do comes before any step's own section, one line per failed step.
    assert text.index("Next:") < text.index("mlbot validate")
    assert "evaluate: the evaluate section below says which gate failed" in text
    if pipeline.scanned:
        assert "scan: upgrade each package the scan section below lists" in text
    else:
        print(f"the scan part is not checked: {TRIVY} is missing (CI has it)")
    tables = page.tables()
    assert tables[0]["header"] == ["Step", "Result"] and len(tables[0]["rows"]) == 7
    # Every step's section follows under the one heading scheme, in pipeline order.
    headings = page.page.evaluate(
        "() => [...document.querySelectorAll('article h3')].map(h => h.innerText.trim())"
    )
    steps = [re.match(r"(✅|❌|⚠️) mlbot ([a-z]+): \S", h)[2] for h in headings]
    scan = ["scan"] if pipeline.scanned else []
    assert steps == ["pipeline", "validate", "train", "evaluate", *scan, "sign"]
    # Logs and slices stay collapsed; only what blocks is open.
    assert page.open_details() == (["Blocking findings (1)"] if pipeline.scanned else [])
    no_runner_paths(page.markdown, pipeline)


def test_the_train_summary_shows_the_artifact_and_keeps_the_log_collapsed(
    pipeline: Pipeline, github_renderer: GitHubRenderer
) -> None:
    page = github_renderer.render(pipeline.steps["train"])
    assert page.problems() == []
    assert page.first_line() == "✅ mlbot train: cancer trained"
    assert re.search(r"Artifact model/model\.pkl, sha256 [0-9a-f]{64}\.", page.text)
    [log] = page.summaries()
    assert re.fullmatch(r"Log \(last 5 of \d+ lines\)", log) and page.open_details() == []
    assert "MLflow run" not in page.text  # inside the closed log
    no_runner_paths(page.markdown, pipeline)


def test_the_evaluate_summary_says_the_verdict_first_and_renders_its_tables(
    pipeline: Pipeline, github_renderer: GitHubRenderer
) -> None:
    page = github_renderer.render(pipeline.steps["evaluate"])
    assert page.problems() == []
    first = page.first_line()
    assert first.startswith("❌ mlbot evaluate: cancer candidate fails 1 of 4 gates"), first
    assert first.endswith(": accuracy")
    header = page.table_headers()[0]
    assert header == ["Metric", "Production", "Candidate", "Change", "Gate"], header
    assert page.summaries() and page.open_details() == []  # slices collapsed
    no_runner_paths(page.markdown, pipeline)


def test_the_signature_summary_says_verified_and_names_the_key_as_the_repository_does(
    pipeline: Pipeline, github_renderer: GitHubRenderer
) -> None:
    page = github_renderer.render(pipeline.steps["sign"])
    assert page.problems() == []
    assert page.first_line() == "✅ mlbot sign: verified"
    assert page.table_headers() == [["Field", "Value"]]
    text = page.text
    assert re.search(r"artifact\s+model\.pkl sha256 [0-9a-f]{64}", text), text
    assert re.search(r"key\s+sha256:[0-9a-f]{64}", text), text
    assert "with cosign.pub" in text
    no_runner_paths(page.markdown, pipeline)


# --- a scan with hundreds of findings ----------------------------------------------------------


def many_findings(tmp: Path, copies: int) -> tuple[Path, Path, list[str]]:
    """A real Trivy report with its findings repeated under new ids (the shared fixtures hold
    at most a few findings each), and a .trivyignore that ignores all but the last ten."""
    import json

    source = TRIVY / "image-and-lang" / "alpine-39.json.golden"
    if not source.is_file():
        pytest.skip(f"../shared/fixtures not present: {source} is missing (CI always has it)")
    doc = json.loads(source.read_text())
    [result] = [r for r in doc["Results"] if r.get("Vulnerabilities")]
    seed = result["Vulnerabilities"]
    vulns = []
    for i in range(copies):
        vuln = dict(seed[i % len(seed)])
        vuln["VulnerabilityID"] = f"CVE-2099-{10000 + i}"
        vulns.append(vuln)
    result["Vulnerabilities"] = vulns
    report = tmp / "many.json"
    report.write_text(json.dumps(doc))
    ids = [v["VulnerabilityID"] for v in vulns]
    ignorefile = tmp / ".trivyignore"
    ignorefile.write_text("".join(f"{i}\n" for i in ids[:-10]))
    return report, ignorefile, ids


def test_a_scan_with_hundreds_of_ignored_findings_stays_short_and_says_where_the_rest_are(
    tmp_path: Path, github_renderer: GitHubRenderer, capsys: pytest.CaptureFixture[str]
) -> None:
    report, ignorefile, ids = many_findings(tmp_path, 600)
    markdown = tmp_path / "scan.md"
    args = ["scan-gate", str(report), "--ignorefile", str(ignorefile)]
    assert main([*args, "--markdown", str(markdown)]) == 1
    # The text output (the scan step's log) keeps every ignored and blocking finding.
    log = capsys.readouterr().out
    assert all(i in log for i in ids[:-10])
    body = markdown.read_text()
    assert len(body) < 20_000, len(body)
    page = github_renderer.render(body)
    assert page.problems() == []
    # Of the ten not ignored, the CRITICAL ones block (the alpine report's MEDIUM ones do not).
    blocking = [i for i in ids[-10:] if i in log.split("Ignored (")[0]]
    assert len(blocking) == 4
    assert page.first_line() == "❌ mlbot scan: 4 blocking findings"
    assert page.summaries() == ["Blocking findings (4)", "Ignored (590)"]
    assert page.open_details() == ["Blocking findings (4)"]
    text, _ = page.expanded()
    # The first 20 ignored are listed, then a count; the blocking ones are all there.
    assert [i for i in ids if i in text] == [*ids[:20], *blocking]
    assert "…and 570 more ignored findings not shown here: mlbot scan-gate lists every one" in text


def test_blocking_findings_past_the_limit_are_cut_the_same_way(
    tmp_path: Path, github_renderer: GitHubRenderer
) -> None:
    from bot.supply_chain.collect import scan_from_files
    from bot.supply_chain.policy import TrivyPolicy
    from bot.supply_chain.render import scan_markdown

    report, _, _ = many_findings(tmp_path, 300)
    result = scan_from_files(report, TrivyPolicy(blocking_severities=["CRITICAL", "MEDIUM"]))
    page = github_renderer.render(scan_markdown(result))
    assert page.problems() == []
    assert page.first_line() == "❌ mlbot scan: 300 blocking findings"
    assert page.open_details() == []  # a long list starts collapsed
    counts, table = page.tables()
    assert counts["header"][0] == "class" and table["summary"] == "Blocking findings (300)"
    assert len(table["rows"]) == 50
    assert "…and 250 more blocking findings not shown here" in page.expanded()[0]
