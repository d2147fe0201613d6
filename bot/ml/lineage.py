"""Where a model came from: the commit, the data digests DVC recorded, the CI run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.registry import yamlio


def git_commit(root: Path) -> str | None:
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or None


def ci_run_url(env: dict[str, str] | None = None) -> str | None:
    env = dict(os.environ) if env is None else env
    server, repo, run = (
        env.get("GITHUB_SERVER_URL"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    )
    if env.get("GITHUB_ACTIONS") == "true" and server and repo and run:
        return f"{server}/{repo}/actions/runs/{run}"
    return None


def _entry_digest(entry: dict) -> str | None:
    for key in ("md5", "etag", "checksum"):
        if entry.get(key):
            return str(entry[key])
    return None


def dvc_data_digests(root: Path) -> dict[str, str]:
    """path -> digest for every data file DVC tracks: `.dvc` files and `dvc.lock`.

    Code dependencies (`.py`) and the params file are not data; the model
    artifact is left out too, as the version record carries its own sha256.
    """
    out: dict[str, str] = {}
    for dvc_file in sorted(root.rglob("*.dvc")):
        if any(part in {".dvc", ".git", ".mlbot"} for part in dvc_file.relative_to(root).parts):
            continue
        try:
            data = yamlio.load(dvc_file.read_bytes()) or {}
        except Exception:  # noqa: S112 - a malformed .dvc file is DVC's error to report
            continue
        base = dvc_file.parent.relative_to(root)
        for entry in data.get("outs", []) or []:
            digest = _entry_digest(entry)
            if digest and entry.get("path"):
                out[(base / entry["path"]).as_posix()] = digest
    lock = root / "dvc.lock"
    if lock.is_file():
        data = yamlio.load(lock.read_bytes()) or {}
        for stage in (data.get("stages") or {}).values():
            for entry in [*(stage.get("deps") or []), *(stage.get("outs") or [])]:
                path = str(entry.get("path", ""))
                digest = _entry_digest(entry)
                if digest and path and _is_data(path):
                    out.setdefault(path, digest)
    return dict(sorted(out.items()))


DATA_SUFFIXES = (".csv", ".parquet", ".pq", ".json", ".jsonl", ".tsv", ".feather", ".npy", ".npz")


def _is_data(path: str) -> bool:
    return path.endswith("/") or (path.lower().endswith(DATA_SUFFIXES) and path != "metrics.json")


def dvc_md5(path: Path) -> str:
    """DVC's md5 of a file (DVC 3 hashes the raw bytes)."""
    import hashlib

    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
