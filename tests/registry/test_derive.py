"""A GTO version's derived metrics are what `dvc metrics show --json` reads at its commit.

The repository is made with the real dvc CLI; the record is derived from the
files committed there, read back through git as the registry reads them.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.registry.derive import derive_record
from bot.registry.tags import TagEvent, TagRef
from tests.gitrepo import git

DVC = Path(sys.executable).with_name("dvc")
pytestmark = pytest.mark.skipif(not DVC.exists(), reason="dvc is not installed (dev extra)")

METRICS = {
    "auc": 0.91,
    "nested": {"f1": 0.8, "deep": {"x": 1}, "empty": {}},
    "curve": [0.1, 0.2],  # a list is no metric
    "none": None,  # nor is a null
    "label": "churn",
    "calibrated": True,
}


def read_at(root: Path):
    def read(commit: str, paths: list[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in paths:
            proc = subprocess.run(
                ["git", "show", f"{commit}:{path}"], cwd=root, capture_output=True, check=False
            )
            out[path] = proc.stdout if proc.returncode == 0 else None
        return out

    return read


def test_derived_metrics_are_what_dvc_metrics_show_reads(tmp_path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    subprocess.run([str(DVC), "init", "-q"], cwd=root, check=True)
    (root / "dvc.yaml").write_text(
        "artifacts:\n  churn:\n    path: models/churn.pkl\n    type: model\n"
        "metrics:\n  - eval/metrics.json\n"
    )
    (root / "eval").mkdir()
    (root / "eval" / "metrics.json").write_text(json.dumps(METRICS))
    (root / "models").mkdir()
    (root / "models" / "churn.pkl").write_bytes(b"weights")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "churn v1")
    head = git(root, "rev-parse", "HEAD").strip()

    shown = subprocess.run(
        [str(DVC), "metrics", "show", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(shown.stdout)[""]["data"]["eval/metrics.json"]["data"]
    ref = TagRef(name="churn@v1.0.0", target=head, tagged_at=dt.datetime.now(dt.UTC))
    event = TagEvent(model="churn", kind="registration", ref=ref, version="v1.0.0")

    record = derive_record("churn", event, read_at(root))

    flat_theirs = {
        "auc": theirs["auc"],
        "nested.f1": theirs["nested"]["f1"],
        "nested.deep.x": theirs["nested"]["deep"]["x"],
        "label": theirs["label"],
        "calibrated": theirs["calibrated"],
    }
    assert record.metrics == flat_theirs
    assert "curve" not in theirs and "none" not in theirs  # what dvc drops, so do we
