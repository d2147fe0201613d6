"""The repository's default branch, read through one store: what every flow gates on.

Everything that gates anything (`.github/mlbot.yml`, CODEOWNERS, a policy
file, the registry) is read from the **default branch** through one
`GitHubStore`, never from a pull request's head: a PR cannot choose its own
approvers or loosen its own policy. Commands, the metric comment, drift and
retraining all read it here. Reads are remembered for the reader's life (one
job), safely across threads; `moved()` forgets what a registry write changes.
"""

from __future__ import annotations

import base64
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from bot.errors import InputError

if TYPE_CHECKING:
    from bot.config.schema import RepoConfig
    from bot.github.client import GitHub
    from bot.policy.schema import Policy
    from bot.registry.state import ModelState


# Off: every `gather` runs its reads one after another (the benchmark's baseline).
PARALLEL = True


def gather(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent reads at the same time (each waits ~one round trip to GitHub)."""
    if len(calls) <= 1 or not PARALLEL:
        return [c() for c in calls]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="mlbot-read") as pool:
        futures = [pool.submit(c) for c in calls]
        return [f.result() for f in futures]


class Memo:
    """Values computed once per key; a concurrent ask for the same key waits for the first."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = compute()
            return self._values[key]

    def forget(self, *prefixes: str) -> None:
        with self._guard:
            for key in [k for k in self._values if k.startswith(prefixes)]:
                del self._values[key]


class DefaultBranch:
    """One repository's default branch: its head, files, config, policies and registry."""

    def __init__(self, gh: GitHub, full_name: str, branch: str) -> None:
        self.gh = gh
        self.full_name = full_name
        self.branch = branch
        self._memo = Memo()
        self._contents_read: dict[tuple[str, str], bytes] = {}  # (head, path): `file()`'s

    @property
    def store(self) -> Any:
        def build() -> Any:
            from bot.registry.github_store import GitHubStore

            return GitHubStore(self.gh, self.full_name, self.branch)

        return self._memo.once("store", build)

    @property
    def head(self) -> str | None:
        """The branch's head commit, or None when the branch does not exist."""
        return self._memo.once("head", self.store.head)

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        """The files at the head (None for a missing one), fetched together."""
        head = self.head

        def load() -> dict[str, bytes | None]:
            if head is None:
                return dict.fromkeys(paths)
            # A file `file()` read already is not asked for again through its blob.
            known = {
                p: self._contents_read[(head, p)] for p in paths if (head, p) in self._contents_read
            }
            rest = self.store.read_files(head, [p for p in paths if p not in known])
            return {p: known[p] if p in known else rest[p] for p in paths}

        return self._memo.once(f"files:{head}:{','.join(paths)}", load)

    def file(self, path: str) -> bytes | None:
        """One file at the head, read beside the head's tree rather than after it.

        The contents API answers for the head commit in the round trip the tree listing
        takes; the listing stays the authority: the contents count only when they are
        the very blob it names (anything else, a symlink say, is read through it).
        """
        head = self.head
        if head is None:
            return None

        def load() -> bytes | None:
            got, ids = gather(
                lambda: self._contents(path, head), lambda: self.store.blob_ids(head, [path])
            )
            if ids[path] is None:
                return None
            if got is not None and got[0] == ids[path]:
                self._contents_read[(head, path)] = got[1]
                return got[1]
            return self.read([path])[path]

        return self._memo.once(f"file:{head}:{path}", load)

    def _contents(self, path: str, head: str) -> tuple[str, bytes] | None:
        """(blob id, bytes) of a plain file at `head` from the contents API, else None."""
        try:
            data = self.gh.rest(
                "GET",
                f"/repos/{self.full_name}/contents/{urllib.parse.quote(path)}",
                {"ref": head},
            )
        except Exception:  # missing, or failing: the tree listing decides, and reads it
            return None
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        if data.get("encoding") != "base64" or not isinstance(data.get("content"), str):
            return None  # over 1 MB: GitHub leaves the content out
        return str(data.get("sha")), base64.b64decode(data["content"])

    @property
    def config(self) -> RepoConfig | None:
        """`.github/mlbot.yml`, or None when the branch has none."""

        def build() -> RepoConfig | None:
            from bot.config.load import parse_config
            from bot.config.schema import CONFIG_PATH

            raw = self.file(CONFIG_PATH)
            return parse_config(raw, CONFIG_PATH) if raw is not None else None

        return self._memo.once("config", build)

    def require_config(self) -> RepoConfig:
        """The config, or an error that says how to add it."""
        from bot.config.schema import CONFIG_PATH

        config = self.config
        if config is None:
            raise InputError(
                f"{CONFIG_PATH} is missing on {self.branch}: add it (`mlbot init`) "
                "so the bot knows your models."
            )
        return config

    def codeowners(self) -> tuple[str, str] | None:
        """(path, text) of the CODEOWNERS file GitHub would use, or None."""

        def build() -> tuple[str, str] | None:
            from bot.approvals import codeowners

            found = self.read(list(codeowners.LOCATIONS))

            def reader(path: str) -> str | None:
                raw = found.get(path)
                return raw.decode("utf-8", "replace") if raw is not None else None

            return codeowners.find(reader)

        return self._memo.once("codeowners", build)

    def team_members(self, team: str) -> list[str]:
        """`org/team` -> member logins (empty for a team that does not exist)."""

        def load() -> list[str]:
            from github import UnknownObjectException

            org, _, slug = team.partition("/")
            try:
                return self.gh.team_members(org, slug)
            except UnknownObjectException:
                return []

        return self._memo.once(f"team:{team.lower()}", load)

    def owners_of(self, path: str) -> tuple[list[str], str | None]:
        """Logins owning `path` per CODEOWNERS, teams expanded, and the file used (or None)."""
        from bot.approvals import codeowners

        found = self.codeowners()
        if found is None:
            return [], None
        where, text = found
        logins: list[str] = []
        for owner in codeowners.owners_of(text, path):
            if owner.kind == "user":
                logins.append(owner.name)
            elif owner.kind == "team":
                logins.extend(self.team_members(owner.name))
        seen: dict[str, str] = {}
        for login in logins:
            seen.setdefault(login.lower(), login)
        return list(seen.values()), where

    def policy(self, model: str | None) -> Policy:
        """The policy in force for `model`: a pack, or a policy file on this branch."""
        return self._memo.once(f"policy:{model}", lambda: self._policy(model))

    def _policy(self, model: str | None) -> Policy:
        from bot.config.load import policy_for, policy_from_bytes
        from bot.policy.packs import PACKS

        config = self.require_config()
        if config.policy in PACKS:
            return policy_for(config, model)
        path = PurePosixPath(config.policy)
        if path.is_absolute() or ".." in path.parts:
            raise InputError(f"policy file {config.policy!r} must be a path inside the repository.")
        raw = self.read([str(path)])[str(path)]
        if raw is None:
            raise InputError(f"policy file {config.policy} is missing from {self.branch}.")
        return policy_from_bytes(config, model, raw)

    def state(self, model: str) -> ModelState:
        """The model's registry state at the head (read again after `moved()`)."""
        return self._memo.once(f"state:{model}", lambda: self.store.read_model(model, self.head))

    def moved(self) -> None:
        """The registry was written: later reads see the new head."""
        self._memo.forget("head", "state:", "files:", "file:")
