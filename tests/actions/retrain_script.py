"""Run `actions/train/retrain-pr.sh` as the retrain workflow's `open-pr` job runs it.

The model repository is a real clone with a real bare `origin`, and `mlbot`
is the code under test. `gh` is not on this machine and would talk to
github.com: a stand-in on PATH answers `gh auth setup-git` and `gh pr create`
the way gh does (it prints the new PR's URL) and keeps the title and body it
was given, so a test reads exactly what GitHub would have been sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.actions.layout import ROOT
from tests.actions.runner import run_bash_step

SCRIPT = ROOT / "actions" / "train" / "retrain-pr.sh"
PR_URL = "https://github.com/acme/models/pull/9"
GH = f"""#!/usr/bin/env bash
set -euo pipefail
case "$1 $2" in
  "auth setup-git") exit 0 ;;
  "pr create")
    shift 2
    while (($#)); do
      case "$1" in
        --title) printf '%s' "$2" >"$GH_RECORD/title"; shift 2 ;;
        --body-file) cp "$2" "$GH_RECORD/body.md"; shift 2 ;;
        --body) printf '%s' "$2" >"$GH_RECORD/body.md"; shift 2 ;;
        *) shift ;;
      esac
    done
    echo {PR_URL} ;;
  *) echo "gh stand-in: unexpected $*" >&2; exit 2 ;;
esac
"""


@dataclass
class RetrainRun:
    returncode: int
    log: str
    title: str
    body: str
    summary: str
    branch_files: list[str]


def run_retrain_pr(repo: Path, tmp: Path, *, reason: str, actor: str = "alice") -> RetrainRun:
    """Open the retraining PR for `cancer` from a clone of `repo` (pushed to a bare origin)."""
    origin = tmp / "origin.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(repo), str(origin)], check=True)
    checkout = tmp / "checkout"
    subprocess.run(["git", "clone", "--quiet", str(origin), str(checkout)], check=True)
    bin_dir, record, temp = tmp / "bin", tmp / "gh-record", tmp / "runner-temp"
    for d in (bin_dir, record, temp):
        d.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(GH)
    (bin_dir / "gh").chmod(0o755)
    summary = temp / "summary.md"
    env = {
        "PATH": os.pathsep.join(
            [str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
        "HOME": os.environ.get("HOME", str(tmp)),
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}),
        "LANG": "C.UTF-8",
        "GIT_PYTHON_REFRESH": "quiet",
        "GH_RECORD": str(record),
        "MLBOT_MODEL": "cancer",
        "MLBOT_REASON": reason,
        "GITHUB_ACTOR": actor,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(temp),
    }
    proc = run_bash_step(SCRIPT, cwd=checkout, env=env, timeout=300)
    branch = "mlbot/retrain/cancer/run-4242"
    pushed = subprocess.run(
        ["git", "--git-dir", str(origin), "diff", "--name-only", "HEAD", branch],
        capture_output=True,
        text=True,
        check=False,
    )

    def read(path: Path) -> str:
        return path.read_text(encoding="utf-8") if path.exists() else ""

    return RetrainRun(
        proc.returncode,
        proc.stdout + proc.stderr,
        read(record / "title"),
        read(record / "body.md"),
        read(summary),
        pushed.stdout.split() if pushed.returncode == 0 else [],
    )
