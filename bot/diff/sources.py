"""Where metrics files are read from: the working tree, or a git revision.

One interface, two backends. A git revision is read by commit, never through
a branch, so a detached HEAD (the usual CI checkout) reads like any other.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.diff.metric_files import DVC_FILE
from bot.errors import InputError
from bot.registry.git_store import GitStore

if TYPE_CHECKING:
    from bot.registry.state import ModelState


class Source(Protocol):
    name: str  # "workspace", or the revision as the user gave it

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        """Each repository-relative path's bytes, None where there is no such file."""

    def dvc_files(self) -> list[str]:
        """Every dvc.yaml (repository-relative, POSIX)."""

    def under(self, folder: str) -> list[str]:
        """The files below `folder`; none when it is not a folder."""


def _git(root: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(root), *args],
        input=input,
        capture_output=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        check=False,
    )


class Workspace:
    name = "workspace"

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in paths:
            full = self.root / path
            out[path] = full.read_bytes() if full.is_file() and self._allowed(path) else None
        return out

    def _allowed(self, path: str) -> bool:
        # A repository path that resolves outside it (a symlink the change added) is not
        # read; a path named outside the repository on the command line is the user's own.
        if path.startswith("/"):
            return True
        return (self.root / path).resolve().is_relative_to(self.root.resolve())

    def dvc_files(self) -> list[str]:
        # Tracked, and untracked but not ignored: the dvc.yaml files a user means.
        listing = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        proc = _git(self.root, *listing, "--", DVC_FILE, f"**/{DVC_FILE}")
        return sorted({p for p in proc.stdout.decode().split("\0") if p})

    def under(self, folder: str) -> list[str]:
        # From the disk, ignored files included: a metrics folder is often DVC's, not git's.
        top = self.root / folder  # an absolute folder (outside the repository) stays itself
        if not top.is_dir():
            return []
        found = [Path(d) / f for d, _, names in os.walk(top) for f in names]
        if folder.startswith("/"):
            return sorted(p.as_posix() for p in found)
        return sorted(p.relative_to(self.root).as_posix() for p in found)


class Revision:
    def __init__(self, root: Path, rev: str) -> None:
        self.name = rev
        proc = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if proc.returncode != 0:
            raise InputError(f"'{rev}' is not a git revision in {root}.")
        self.commit = proc.stdout.decode().strip()
        # Reads go by commit; naming the branch keeps the store from asking git
        # which branch is checked out, which a detached HEAD cannot answer.
        self._git = GitStore(root, branch=rev)

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        inside = [p for p in paths if not p.startswith("/")]
        return dict.fromkeys(paths) | self._git.read_files(self.commit, inside)

    def dvc_files(self) -> list[str]:
        return [
            p
            for p in self._git.list_files(self.commit, ".")
            if p == DVC_FILE or p.endswith("/" + DVC_FILE)
        ]

    def under(self, folder: str) -> list[str]:
        if folder.startswith("/"):
            return []
        prefix = folder.rstrip("/") + "/"
        return [p for p in self._git.list_files(self.commit, folder) if p.startswith(prefix)]

    def model_state(self, model: str) -> ModelState:
        """The model's registry state as this commit has it."""
        return self._git.read_model(model, self.commit)


def dvc_files(source: Source) -> dict[str, bytes]:
    """Every dvc.yaml the source holds, by path."""
    return {p: c for p, c in source.read(source.dvc_files()).items() if c is not None}
