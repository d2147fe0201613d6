"""`mlbot diff --json` gives the JSON `dvc metrics diff --json` gives, on repositories dvc set up.

Each repository is made with the real dvc CLI (`dvc init`, `dvc stage add -M`),
the baseline committed, the candidate left in the working tree, and HEAD
detached as CI checks it out; then both tools run on the same checkout.
"""

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
    "equal numbers of different types are no change": (
        {"epochs": 3, "flag": True, "loss": 0.5, "n": 2},
        {"epochs": 3.0, "flag": 1, "loss": 0.5, "n": 2.5},
    ),
}

# Hand-written text, so each format's own rules are exercised: YAML 1.2 reads
# `yes` as a string and `1_000` as a string, dates are no metrics; TOML has
# tables, integers and floats of its own.
YAML_OLD = """\
acc: 0.9
flag: yes
count: 3
big: 1_000
when: 2024-01-01
nested: {f1: 0.8, deep: {x: 1}}
steps: [1, 2]
gone: 7
"""
YAML_NEW = """\
acc: 0.95
flag: no
count: 3.0
big: 2_000
when: 2024-02-01
nested:
  f1: 0.7
  deep: {x: 1}
steps: [1, 3]
"""
TOML_OLD = """\
acc = 0.9
epochs = 3
name = "baseline"
when = 2024-01-01T00:00:00Z

[eval]
f1 = 0.8
loss = 1
"""
TOML_NEW = """\
acc = 0.93
epochs = 3.0
name = "candidate"
when = 2024-02-01T00:00:00Z
new_metric = 12

[eval]
f1 = 0.8
loss = 0.5
"""
FORMAT_CASES = {
    "json": (
        "json",
        json.dumps({"acc": 0.9, "epochs": 3, "a": {"b": 1}}),
        json.dumps({"acc": 0.91, "epochs": 3.0, "a": {"b": 2}}),
    ),
    "yaml": ("yaml", YAML_OLD, YAML_NEW),
    "yml": ("yml", YAML_OLD, YAML_NEW),
    "toml": ("toml", TOML_OLD, TOML_NEW),
}


def dvc(root: Path, *args: str) -> str:
    proc = subprocess.run([str(DVC), *args], cwd=root, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"dvc {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def dvc_diff(root: Path, *args: str) -> dict:
    return json.loads(dvc(root, "metrics", "diff", "--json", *args))


def dvc_repo(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", capsys)
    dvc(repo.root, "init", "-q")
    # The test repository ignores *.json; metrics files must be committed.
    (repo.root / ".gitignore").write_text("model.bin\n")
    return repo


def commit(repo, message: str) -> None:
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-q", "-m", message)


def detach(repo) -> None:
    git(repo.root, "checkout", "-q", "--detach")
    assert git(repo.root, "symbolic-ref", "-q", "HEAD", check=False) == ""


@pytest.mark.parametrize("case", list(CASES))
def test_json_matches_dvc_metrics_diff(tmp_path, capsys, case):
    old, new = CASES[case]
    repo = dvc_repo(tmp_path, capsys)
    (repo.root / "dvc.yaml").write_text("metrics:\n  - eval/metrics.json\n")
    (repo.root / "eval").mkdir()
    metrics = repo.root / "eval" / "metrics.json"
    metrics.write_text(json.dumps(old))
    commit(repo, "baseline metrics")
    metrics.write_text(json.dumps(new))

    theirs = dvc_diff(repo.root)
    ours = repo.ok("diff", "--rev", "HEAD", "--metrics", str(metrics)).json()
    assert ours == theirs
    assert ours  # every case has differences
    assert repo.ok("diff", "--rev", "HEAD", "--all", "--metrics", str(metrics)).json() == (
        dvc_diff(repo.root, "--all")
    )


@pytest.mark.parametrize("fmt", list(FORMAT_CASES))
def test_each_format_matches_dvc_on_a_detached_head_found_from_dvc_yaml(tmp_path, capsys, fmt):
    ext, old, new = FORMAT_CASES[fmt]
    repo = dvc_repo(tmp_path, capsys)
    (repo.root / "dvc.yaml").write_text(f"metrics:\n  - eval/metrics.{ext}\n")
    (repo.root / "eval").mkdir()
    metrics = repo.root / "eval" / f"metrics.{ext}"
    metrics.write_text(old)
    commit(repo, "baseline metrics")
    metrics.write_text(new)
    detach(repo)

    theirs = dvc_diff(repo.root)
    assert theirs, "the case must have differences"
    res = repo.ok("diff", "--json")  # no file named: dvc.yaml says which
    assert res.json() == theirs
    assert res.err == ""
    assert repo.ok("diff", "--all").json() == dvc_diff(repo.root, "--all")


def test_stage_outputs_subfolders_and_files_missing_on_one_side_match_dvc(tmp_path, capsys):
    repo = dvc_repo(tmp_path, capsys)
    root = repo.root
    (root / "train").mkdir()
    (root / "train" / "scores.yaml").write_text("auc: 0.8\nepochs: 10\n")
    (root / "old.json").write_text('{"dropped": 1}')
    (root / "top.toml").write_text("rmse = 2.0\n")
    # A stage whose `metrics` output lives in its wdir, written by dvc itself.
    dvc(root, "stage", "add", "-q", "-n", "train", "-w", "train", "-M", "scores.yaml",
        "true")  # fmt: skip
    (root / "dvc.yaml").write_text(
        (root / "dvc.yaml").read_text() + "metrics:\n  - top.toml\n  - old.json\n"
    )
    (root / "sub").mkdir()
    (root / "sub" / "dvc.yaml").write_text("metrics:\n  - reports\n")
    (root / "sub" / "reports").mkdir()
    (root / "sub" / "reports" / "a.json").write_text('{"x": 1}')
    commit(repo, "baseline")

    # The candidate: a new metrics file, one declared file gone, one folder file
    # added, one that no longer parses (dvc reads it as empty and says so).
    (root / "train" / "scores.yaml").write_text("auc: 0.85\nepochs: 10.0\n")
    (root / "dvc.yaml").write_text(
        (root / "dvc.yaml").read_text().replace("  - old.json\n", "  - new.json\n")
    )
    (root / "new.json").write_text('{"fresh": 0.5}')
    (root / "old.json").unlink()
    (root / "sub" / "reports" / "b.yaml").write_text("y: 2\n")
    (root / "top.toml").write_text("rmse = [broken\n")
    # A file git ignores is still a metrics file in the working tree, as dvc reads it.
    (root / "sub" / ".gitignore").write_text("reports/local.json\n")
    (root / "sub" / "reports" / "local.json").write_text('{"z": 1}')
    detach(repo)

    theirs = dvc_diff(root)
    ours = repo.ok("diff")
    assert ours.json() == theirs
    assert theirs["new.json"] == {"fresh": {"old": None, "new": 0.5}}
    assert theirs["old.json"] == {"dropped": {"old": 1, "new": None}}
    assert theirs["sub/reports/local.json"] == {"z": {"old": None, "new": 1}}
    assert "top.toml is not valid TOML" in ours.err
    assert repo.ok("diff", "--all").json() == dvc_diff(root, "--all")

    # Against an older revision by name, as `dvc metrics diff REV`.
    git(root, "commit", "-q", "--allow-empty", "-m", "later")
    assert repo.ok("diff", "--rev", "HEAD~1").json() == dvc_diff(root, "HEAD~1")


def test_no_metrics_anywhere_is_a_clear_error(tmp_path, capsys):
    repo = dvc_repo(tmp_path, capsys)
    res = repo.mlbot("diff")
    assert res.code == 2
    assert "no metrics files" in res.err and "dvc.yaml" in res.err


def test_a_registry_baseline_is_read_on_a_detached_head(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", capsys)
    version = repo.register(accuracy=0.9, epochs=3)
    candidate = repo.root / "metrics.json"
    candidate.write_text(json.dumps({"accuracy": 0.92, "epochs": 3.0}))
    detach(repo)

    by_version = repo.ok("diff", "churn", "--version", version).json()
    assert by_version == {
        "metrics.json": {"accuracy": {"old": 0.9, "new": 0.92, "diff": pytest.approx(0.02)}}
    }
    # Nothing live in production yet: the baseline side is null, as a missing file.
    empty = repo.ok("diff", "churn", "--stage", "production").json()
    assert empty["metrics.json"]["accuracy"] == {"old": None, "new": 0.92}
    assert repo.mlbot("diff", "churn", "--version", "v9.9.9").code == 2
    # A candidate written outside the repository (a CI temp folder) is read where it is.
    outside = tmp_path / "runner-temp" / "metrics.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({"accuracy": 0.95}))
    res = repo.ok("diff", "churn", "--version", version, "--metrics", str(outside)).json()
    assert res[outside.as_posix()]["accuracy"]["new"] == 0.95


def test_the_default_baseline_is_the_repositorys_own_baseline_stage(tmp_path, capsys):
    repo = make_repo(tmp_path / "r", capsys, overrides="{stages: [dev, prod]}")
    live = repo.register(accuracy=0.8)
    repo.ok("registry", "promote", "churn", live, "--to", "prod")
    repo.register(accuracy=0.85)
    (repo.root / "metrics.json").write_text(json.dumps({"accuracy": 0.9}))
    detach(repo)
    res = repo.ok("diff", "churn")  # no --stage: the policy's baseline stage, prod
    assert res.json()["metrics.json"]["accuracy"]["old"] == 0.8
    assert repo.mlbot("diff", "churn", "--stage", "../prod").code == 2


def test_a_symlink_out_of_the_repository_is_not_read(tmp_path, capsys):
    secret = tmp_path / "secret.json"
    secret.write_text('{"token": "s3cr3t"}')
    repo = dvc_repo(tmp_path, capsys)
    (repo.root / "dvc.yaml").write_text("metrics: [m.json, ../secret.json]\n")
    (repo.root / "m.json").symlink_to(secret)
    res = repo.ok("diff")
    assert "s3cr3t" not in res.out
    assert "../secret.json is outside the repository" in res.err
