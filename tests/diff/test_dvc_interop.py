"""`mlbot diff --rev` gives the JSON `dvc metrics diff --json` gives, on the same files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import git, make_repo

DVC = Path(sys.executable).with_name("dvc")
pytestmark = pytest.mark.skipif(not DVC.exists(), reason="dvc is not installed (dev extra)")

CASES = {
    "nested, added and removed": (
        {"acc": 0.9, "nested": {"f1": 0.8, "deep": {"x": 1}}, "removed": 3, "same": 1},
        {"acc": 0.95, "nested": {"f1": 0.7, "deep": {"x": 2}}, "added": 5, "same": 1},
    ),
    "non-numeric and booleans": (
        {"label": "a", "b": True, "m": 1, "s": "x"},
        {"label": "b", "b": False, "m": "1", "s": 2},
    ),
    "lists and nulls are not metrics": (
        {"lst": [1, 2], "z": None, "k": 1, "e": {}},
        {"lst": [1, 3], "z": 1, "k": None, "e": {"q": 1}},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_json_matches_dvc_metrics_diff(tmp_path, capsys, case):
    old, new = CASES[case]
    repo = make_repo(tmp_path / "r", capsys)
    subprocess.run([str(DVC), "init", "-q"], cwd=repo.root, check=True)
    (repo.root / "dvc.yaml").write_text("metrics:\n  - eval/metrics.json\n")
    (repo.root / "eval").mkdir()
    metrics = repo.root / "eval" / "metrics.json"
    metrics.write_text(json.dumps(old))
    git(repo.root, "add", "-f", "-A")
    git(repo.root, "commit", "-q", "-m", "baseline metrics")
    metrics.write_text(json.dumps(new))

    theirs = json.loads(
        subprocess.run(
            [str(DVC), "metrics", "diff", "--json"],
            cwd=repo.root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    ours = repo.ok("diff", "--rev", "HEAD", "--metrics", str(metrics)).json()
    assert ours == theirs
    assert ours  # every case has differences
    theirs_all = json.loads(
        subprocess.run(
            [str(DVC), "metrics", "diff", "--json", "--all"],
            cwd=repo.root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert repo.ok("diff", "--rev", "HEAD", "--all", "--metrics", str(metrics)).json() == theirs_all
