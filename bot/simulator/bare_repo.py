"""A simulated repository's git data: real git objects in a bare repository on disk.

pygit2 writes blobs, trees, commits and annotated tags exactly as git does, so
SHAs the simulator hands out are the SHAs `git` would compute, and a test can
open the repository with the git CLI to check what the bot wrote.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2

_MODES = {
    "100644": pygit2.GIT_FILEMODE_BLOB,
    "100755": pygit2.GIT_FILEMODE_BLOB_EXECUTABLE,
    "040000": pygit2.GIT_FILEMODE_TREE,
    "160000": pygit2.GIT_FILEMODE_COMMIT,
    "120000": pygit2.GIT_FILEMODE_LINK,
}
_MODE_NAMES = {v: k for k, v in _MODES.items()}


class GitDataError(Exception):
    """A request GitHub would refuse with 422 (or 404 when `not_found`)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    when: int | None = None  # epoch seconds

    def signature(self) -> pygit2.Signature:
        return pygit2.Signature(self.name, self.email, int(self.when or time.time()), 0)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, fallback: Person) -> Person:
        """An `author`/`committer`/`tagger` object of GitHub's API, or `fallback` without one."""
        if not data:
            return fallback
        when = None
        if data.get("date"):
            import datetime as dt

            when = int(dt.datetime.fromisoformat(data["date"].replace("Z", "+00:00")).timestamp())
        return cls(data.get("name", fallback.name), data.get("email", fallback.email), when)


def mode_name(mode: int) -> str:
    return _MODE_NAMES.get(mode, "100644")


class BareRepo:
    """One bare repository; every ref update is serialised by a lock (compare-and-swap)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if (path / "HEAD").exists():
            self.repo = pygit2.Repository(str(path))
        else:
            self.repo = pygit2.init_repository(str(path), bare=True, initial_head="main")
        self.lock = threading.RLock()

    # -- objects -----------------------------------------------------------------------------
    def get(self, sha: str, kind: int | None = None) -> Any:
        try:
            obj = self.repo.get(sha) if len(sha) == 40 else self.repo.revparse_single(sha)
        except (KeyError, ValueError, pygit2.GitError):
            obj = None
        if obj is None or (kind is not None and obj.type != kind):
            raise GitDataError("Not Found", not_found=True)
        return obj

    def create_blob(self, data: bytes) -> str:
        with self.lock:
            return str(self.repo.create_blob(data))

    def create_tree(self, entries: list[dict[str, Any]], base_tree: str | None) -> str:
        """GitHub's tree API: paths may be nested; `sha: null` deletes; `content` makes a blob."""
        with self.lock:
            base = self.get(base_tree, pygit2.GIT_OBJECT_TREE) if base_tree else None
            changes: dict[str, tuple[int, str] | None] = {}
            for entry in entries:
                path = entry["path"].strip("/")
                mode = _MODES.get(entry.get("mode", "100644"))
                if mode is None:
                    raise GitDataError(f"Invalid tree mode {entry.get('mode')!r}")
                if "content" in entry and entry["content"] is not None:
                    sha = str(self.repo.create_blob(entry["content"].encode()))
                elif entry.get("sha") is None:
                    changes[path] = None
                    continue
                else:
                    sha = entry["sha"]
                    self.get(sha)  # must exist
                changes[path] = (mode, sha)
            return str(self._apply(base, changes))

    def _apply(self, base: Any, changes: dict[str, tuple[int, str] | None]) -> pygit2.Oid:
        builder = self.repo.TreeBuilder(base) if base is not None else self.repo.TreeBuilder()
        nested: dict[str, dict[str, tuple[int, str] | None]] = {}
        for path, change in changes.items():
            head, _, rest = path.partition("/")
            if rest:
                nested.setdefault(head, {})[rest] = change
            elif change is None:
                if builder.get(head) is not None:
                    builder.remove(head)
            else:
                builder.insert(head, pygit2.Oid(hex=change[1]), change[0])
        for name, sub in nested.items():
            existing = builder.get(name)
            sub_base = None
            if existing is not None and existing.filemode == pygit2.GIT_FILEMODE_TREE:
                sub_base = self.repo.get(existing.id)
            oid = self._apply(sub_base, sub)
            if len(self.repo.get(oid)) == 0:
                if builder.get(name) is not None:
                    builder.remove(name)
            else:
                builder.insert(name, oid, pygit2.GIT_FILEMODE_TREE)
        return builder.write()

    def create_commit(
        self, message: str, tree: str, parents: list[str], author: Person, committer: Person
    ) -> str:
        with self.lock:
            self.get(tree, pygit2.GIT_OBJECT_TREE)
            for parent in parents:
                self.get(parent, pygit2.GIT_OBJECT_COMMIT)
            oid = self.repo.create_commit(
                None,
                author.signature(),
                committer.signature(),
                message,
                pygit2.Oid(hex=tree),
                [pygit2.Oid(hex=p) for p in parents],
            )
            return str(oid)

    def create_tag(self, tag: str, message: str, target: str, tagger: Person) -> str:
        with self.lock:
            obj = self.get(target)
            # pygit2's create_tag also writes refs/tags/<tag>; GitHub's API (and GTO's flow)
            # creates the tag object first and the ref in a second call, so write the raw object.
            sig = tagger.signature()
            raw = (
                f"object {obj.id}\ntype {obj.type_str}\ntag {tag}\n"
                f"tagger {sig.name} <{sig.email}> {sig.time} +0000\n\n{message}"
            )
            if not message.endswith("\n"):
                raw += "\n"
            return str(self.repo.odb.write(pygit2.GIT_OBJECT_TAG, raw.encode()))

    def commit_files(
        self,
        files: dict[str, bytes | str | None],
        message: str,
        *,
        branch: str,
        author: Person,
    ) -> str:
        """Write files on a branch as one commit (the control API's "push")."""
        with self.lock:
            parent = self.ref_sha(f"heads/{branch}")
            base_tree = self.get(parent).tree_id.__str__() if parent else None
            entries: list[dict[str, Any]] = []
            for path, data in files.items():
                if data is None:
                    entries.append({"path": path, "mode": "100644", "type": "blob", "sha": None})
                else:
                    raw = data.encode() if isinstance(data, str) else data
                    entries.append({"path": path, "mode": "100644", "sha": self.create_blob(raw)})
            tree = self.create_tree(entries, base_tree)
            sha = self.create_commit(message, tree, [parent] if parent else [], author, author)
            self.set_ref(f"heads/{branch}", sha, force=True)
            return sha

    # -- refs --------------------------------------------------------------------------------
    def ref_sha(self, ref: str) -> str | None:
        """`ref` without `refs/` (heads/main, tags/v1, pull/3/head)."""
        try:
            return str(self.repo.references[f"refs/{ref}"].target)
        except KeyError:
            return None

    def refs(self, prefix: str = "") -> list[tuple[str, str]]:
        out = []
        for name in sorted(self.repo.references):
            if name.startswith(f"refs/{prefix}"):
                out.append((name, str(self.repo.references[name].target)))
        return out

    def is_ancestor(self, old: str, new: str) -> bool:
        if old == new:
            return True
        return self.repo.descendant_of(pygit2.Oid(hex=new), pygit2.Oid(hex=old))

    def set_ref(self, ref: str, sha: str, *, force: bool, expect: str | None = None) -> str | None:
        """Point a ref at `sha`; refuse a non-fast-forward unless forced. Returns the old SHA."""
        with self.lock:
            old = self.ref_sha(ref)
            if expect is not None and old != expect:
                raise GitDataError("Reference has moved")
            obj = self.get(sha)
            if (
                old is not None
                and not force
                and ref.startswith("heads/")
                and (obj.type != pygit2.GIT_OBJECT_COMMIT or not self.is_ancestor(old, sha))
            ):
                raise GitDataError("Update is not a fast forward")
            self.repo.references.create(f"refs/{ref}", obj.id, force=True)
            return old

    def create_ref(self, ref: str, sha: str) -> None:
        with self.lock:
            if self.ref_sha(ref) is not None:
                raise GitDataError("Reference already exists")
            obj = self.get(sha)
            self.repo.references.create(f"refs/{ref}", obj.id)

    def delete_ref(self, ref: str) -> None:
        with self.lock:
            if self.ref_sha(ref) is None:
                raise GitDataError("Reference does not exist")
            self.repo.references.delete(f"refs/{ref}")

    def resolve(self, rev: str, default_branch: str) -> str | None:
        """A branch, tag or SHA to a commit SHA (peeling annotated tags)."""
        rev = rev or default_branch
        for ref in (f"heads/{rev}", f"tags/{rev}", rev.removeprefix("refs/")):
            sha = self.ref_sha(ref)
            if sha:
                return str(self.repo.get(sha).peel(pygit2.Commit).id)
        try:
            obj = self.repo.revparse_single(rev)
            return str(obj.peel(pygit2.Commit).id)
        except (KeyError, ValueError, pygit2.GitError):
            return None

    def read_path(self, commit_sha: str, path: str) -> Any:
        """The blob or tree at `path` in a commit, or None."""
        tree = self.repo.get(commit_sha).tree
        path = path.strip("/")
        if not path:
            return tree
        try:
            entry = tree[path]
        except KeyError:
            return None
        return self.repo.get(entry.id)

    def merge(
        self,
        base_sha: str,
        head_sha: str,
        message: str,
        author: Person,
        squash: bool,
        committer: Person | None = None,
    ) -> str | None:
        """A merge (or squash) commit of head into base; None on conflict."""
        with self.lock:
            base = self.repo.get(base_sha)
            head = self.repo.get(head_sha)
            ancestor = self.repo.merge_base(base.id, head.id)
            if ancestor is not None and ancestor == head.id:
                return None
            index = self.repo.merge_commits(base, head)
            if index.conflicts is not None:
                return None
            tree = index.write_tree(self.repo)
            parents = [base.id] if squash else [base.id, head.id]
            return str(
                self.repo.create_commit(
                    None,
                    author.signature(),
                    (committer or author).signature(),
                    message,
                    tree,
                    parents,
                )
            )

    def pushed_commits(self, before: str | None, after: str) -> list[pygit2.Commit]:
        """What a push from `before` to `after` brings, oldest first, as GitHub lists it.

        For a new ref (`before` None): the commits no branch had yet.
        """
        walker = self.repo.walk(
            pygit2.Oid(hex=after), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE
        )
        hide = [before] if before else [sha for _, sha in self.refs("heads/") if sha != after]
        for sha in hide:
            walker.hide(pygit2.Oid(hex=sha))
        return list(walker)

    def changed_paths(self, commit: pygit2.Commit) -> dict[str, list[str]]:
        """{"added", "removed", "modified"}: the paths a commit changed against its first parent."""
        parent = commit.parents[0].tree if commit.parents else None
        if parent is None:
            diff = commit.tree.diff_to_tree(swap=True)
        else:
            diff = self.repo.diff(parent, commit.tree)
        out: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
        for delta in diff.deltas:
            kind = {"A": "added", "D": "removed"}.get(delta.status_char(), "modified")
            out[kind].append(delta.new_file.path if kind != "removed" else delta.old_file.path)
        return out

    def fetch_from(self, other: BareRepo | Path, src_ref: str, dst_ref: str) -> str:
        """Copy a ref and its objects from another store (a fork) or a local repository."""
        import subprocess

        with self.lock:
            subprocess.run(
                [
                    "git",
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    str(other.path if isinstance(other, BareRepo) else other),
                    f"+refs/{src_ref}:refs/{dst_ref}",
                ],
                cwd=self.path,
                check=True,
                capture_output=True,
            )
            return self.ref_sha(dst_ref) or ""
