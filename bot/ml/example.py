"""Copying the example model repository into a fresh git + DVC repository.

The demo and the tests never work in `examples/` itself: they get a copy
with its own git history, the dataset written from scikit-learn (nothing
downloaded) and put under DVC, and one initial commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.errors import InputError

EXAMPLE = "cancer-classifier"
MODEL = "cancer"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo User",
    "GIT_AUTHOR_EMAIL": "demo@example.com",
    "GIT_COMMITTER_NAME": "Demo User",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
}


def example_dir(name: str = EXAMPLE) -> Path:
    here = Path(__file__).resolve()
    path = here.parents[2] / "examples" / name
    if not (path / ".github" / "mlbot.yml").is_file():
        raise InputError(f"the example {name} is not in this checkout ({path}).")
    return path


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **IDENTITY}
    proc = subprocess.run(
        ["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise InputError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def run_python(root: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise InputError(f"python {' '.join(args)} failed: {proc.stderr.strip()[-2000:]}")
    return proc.stdout


def materialize(dest: Path, name: str = EXAMPLE) -> Path:
    """A git repository at `dest` holding the example, its data under DVC, committed."""
    src = example_dir(name)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise InputError(f"{dest} is not empty.")
    shutil.copytree(
        src,
        dest,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(
            "__pycache__", ".mlbot", "cache", "tmp", "*.csv", "*.pkl", "dvc.lock", "metrics.json"
        ),
    )
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "config", "user.name", IDENTITY["GIT_AUTHOR_NAME"])
    git(dest, "config", "user.email", IDENTITY["GIT_AUTHOR_EMAIL"])
    run_python(dest, "src/make_dataset.py")
    run_python(dest, "-m", "dvc", "add", "--quiet", "data/cancer.csv")
    git(dest, "add", "-A")
    git(dest, "commit", "--quiet", "-m", "example: the cancer classifier and its data")
    return dest
