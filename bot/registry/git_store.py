"""The registry in a local git repository, written with plumbing commands.

A write never touches the user's index or other files: blobs, a tree built
in a temporary index, `git commit-tree`, `git mktag`, then a single
`git update-ref --stdin` transaction that moves the branch only if it still
points where we read it (compare-and-swap) and creates every tag, or does
nothing at all. Reads cost a fixed number of git processes, whatever the
number of versions.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import tempfile
from pathlib import Path

from bot.errors import InputError, Refused
from bot.registry import schema, semver, tags
from bot.registry.plan import NEW_COMMIT, Change
from bot.registry.schema import StagesFile, VersionRecord
from bot.registry.state import ModelState
from bot.registry.store import CommitInfo, Identity, Snapshot, StaleHead, read_snapshot

ZERO = "0" * 40
_TAG_FORMAT = (
    "%(refname:strip=2)%00%(objecttype)%00%(*objectname)%00%(objectname)"
    "%00%(taggerdate:unix)%00%(taggername)%00%(taggeremail:trim)%00%(contents)%1e"
)


class GitError(InputError):
    pass


def _ts(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


def _git_date(when: dt.datetime) -> str:
    return f"{int(when.timestamp())} +0000"


class GitStore:
    def __init__(
        self, root: Path | str, branch: str | None = None, *, read_only: bool = False
    ) -> None:
        """The registry on `branch` (default: the checked-out one).

        `read_only` also accepts a detached HEAD (a CI checkout), reading the
        registry at HEAD; such a store refuses to write.
        """
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"{self.root} is not a directory.")
        probe = self._run("rev-parse", "--is-bare-repository", check=False)
        if probe.returncode != 0:
            raise InputError(f"{self.root} is not a git repository.")
        self.bare = probe.stdout.strip() == "true"
        if branch is None and read_only:
            branch = self._current_branch_or_none()
            self.branch: str | None = branch
        else:
            self.branch = branch or self._current_branch()

    # -- plumbing ---------------------------------------------------------

    def _run(
        self,
        *args: str,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
        text: bool = True,
    ) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
        if isinstance(input, bytes):
            text = False
        proc = subprocess.run(
            ["git", "-C", str(self.root), *args],
            input=input,
            capture_output=True,
            text=text,
            env=full_env,
        )
        if check and proc.returncode != 0:
            err = proc.stderr if text else proc.stderr.decode(errors="replace")
            raise GitError(f"git {args[0]} failed: {err.strip().splitlines()[-1] if err else '?'}")
        return proc

    def _current_branch(self) -> str:
        proc = self._run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        if proc.returncode != 0:
            raise InputError(
                f"{self.root}: HEAD is detached; check out the branch the registry lives on."
            )
        return proc.stdout.strip()

    @property
    def ref(self) -> str:
        return f"refs/heads/{self.branch}" if self.branch else "HEAD"

    def identity(self) -> Identity:
        proc = self._run("var", "GIT_COMMITTER_IDENT", check=False)
        if proc.returncode != 0:
            raise InputError(
                "git has no user identity here: set git config user.name and user.email."
            )
        ident = proc.stdout.strip().rsplit(" ", 2)[0]
        name, _, email = ident.partition(" <")
        return Identity(name, email.rstrip(">"))

    # -- reading ----------------------------------------------------------

    def head(self) -> str | None:
        proc = self._run("rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}", check=False)
        return proc.stdout.strip() or None

    def list_files(self, head: str, prefix: str) -> list[str]:
        out = self._run("ls-tree", "-r", "--name-only", "-z", head, "--", prefix).stdout
        return [p for p in out.split("\0") if p]

    def on_branch(self, head: str, commits: list[str]) -> set[str]:
        found = set()
        for commit in commits:
            probe = self._run("merge-base", "--is-ancestor", commit, head, check=False)
            if probe.returncode == 0:
                found.add(commit)
        return found

    def read_files(self, head: str, paths: list[str]) -> dict[str, bytes | None]:
        if not paths:
            return {}
        request = "".join(f"{head}:{p}\n" for p in paths).encode()
        out = self._run("cat-file", "--batch", input=request).stdout
        result: dict[str, bytes | None] = {}
        pos = 0
        for path in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] == b"missing":
                result[path] = None
                continue
            size = int(header[2])
            # A folder at that path is no file (its tree object is not its content).
            result[path] = out[pos : pos + size] if header[1] == b"blob" else None
            pos += size + 1
        return result

    def tags(self, model: str | None = None) -> list[tags.TagRef]:
        patterns = [f"refs/tags/{model}@*", f"refs/tags/{model}#*"] if model else ["refs/tags"]
        out = self._run("for-each-ref", f"--format={_TAG_FORMAT}", *patterns).stdout
        refs = []
        for record in out.split("\x1e"):
            record = record.lstrip("\n")
            if not record:
                continue
            name, kind, peeled, obj, when, tagger, email, message = record.split("\0", 7)
            annotated = kind == "tag"
            refs.append(
                tags.TagRef(
                    name=name,
                    target=peeled if annotated else obj,
                    tagged_at=_ts(int(when)) if when else _ts(0),
                    message=message,
                    annotated=annotated,
                    tagger=tagger,
                    tagger_email=email,
                )
            )
        return refs

    def _events(self, model: str) -> list[tags.TagEvent]:
        events = [e for ref in self.tags(model) if (e := tags.parse(ref)) and e.model == model]
        return sorted(events, key=lambda e: e.order)

    def read_model(self, model: str, head: str | None) -> ModelState:
        versions: list[str] = []
        stages: StagesFile | None = None
        if head is not None:
            prefix = f"registry/{model}/versions/"
            for path in self.list_files(head, prefix):
                name = path[len(prefix) :].removesuffix(".yaml")
                if path.endswith(".yaml") and semver.is_version(name):
                    versions.append(name)
            path = schema.stages_path(model)
            content = self.read_files(head, [path])[path]
            if content is not None:
                stages = schema.parse_file(path, content, StagesFile)
        versions.sort(key=semver.sort_key)

        def load(version: str) -> VersionRecord:
            path = schema.version_path(model, version)
            content = self.read_files(head, [path])[path] if head else None
            if content is None:
                raise InputError(f"{path} does not exist.")
            return schema.parse_file(path, content, VersionRecord)

        return ModelState(
            model,
            head,
            versions,
            stages,
            self._events(model),
            load,
            read_files=self.read_files,
            on_branch=self.on_branch,
        )

    def snapshot(self, head: str | None) -> Snapshot:
        return read_snapshot(self, head)

    def log(self, model: str | None = None) -> list[CommitInfo]:
        """Registry commits, newest first: of one model, or of every model."""
        head = self.head()
        if head is None:
            return []
        path = f"registry/{model}/" if model else "registry/"
        out = self._run("log", "--format=%H%x00%at%x00%B%x1e", head, "--", path).stdout
        commits = []
        for record in out.split("\x1e"):
            record = record.lstrip("\n")
            if record:
                sha, when, body = record.split("\0", 2)
                commits.append(CommitInfo(sha, _ts(int(when)), body))
        return commits

    # -- writing ----------------------------------------------------------

    def uncommitted(self, prefix: str) -> list[str]:
        """Files under `prefix` that differ from HEAD in the working tree (untracked too)."""
        if self.bare:
            return []
        out = self._run("status", "--porcelain", "-z", "--untracked-files=all", "--", prefix).stdout
        paths = []
        entries = iter(out.split("\0"))
        for entry in entries:
            if not entry:
                continue
            paths.append(entry[3:])
            if entry[0] in "RC":
                next(entries, None)  # a rename also names its source
        return sorted(paths)

    def ensure_clean(self, model: str) -> None:
        """Refuse to write over uncommitted edits of the model's registry files."""
        if self.bare or self._current_branch_or_none() != self.branch:
            return
        dirty = self._run("status", "--porcelain", "--", f"registry/{model}/").stdout.strip()
        if dirty:
            raise Refused(
                f"registry/{model}/ has uncommitted changes; commit or discard them first."
            )

    def _current_branch_or_none(self) -> str | None:
        proc = self._run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return proc.stdout.strip() or None

    def write(self, parent: str | None, change: Change, author: Identity) -> str:
        if self.branch is None:
            raise InputError(
                f"{self.root}: HEAD is detached; check out the branch the registry lives on."
            )
        now = dt.datetime.now(dt.timezone.utc)
        ident_env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": author.name,
            "GIT_COMMITTER_EMAIL": author.email,
            "GIT_AUTHOR_DATE": _git_date(now),
            "GIT_COMMITTER_DATE": _git_date(now),
        }
        with tempfile.TemporaryDirectory(prefix="mlbot-index-") as tmp:
            index_env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent is not None:
                self._run("read-tree", parent, env=index_env)
            for path, content in change.files.items():
                blob = self._run("hash-object", "-w", "--stdin", input=content).stdout
                blob_sha = blob.decode().strip()
                self._run(
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    f"100644,{blob_sha},{path}",
                    env=index_env,
                )
            tree = self._run("write-tree", env=index_env).stdout.strip()
        parents = ["-p", parent] if parent else []
        commit = self._run(
            "commit-tree", tree, *parents, "-F", "-", input=change.message, env=ident_env
        ).stdout.strip()

        lines = ["start", f"update {self.ref} {commit} {parent or ZERO}"]
        for spec in change.tags:
            target = commit if spec.target == NEW_COMMIT else spec.target
            tag_object = (
                f"object {target}\ntype commit\ntag {spec.name}\n"
                f"tagger {author.name} <{author.email}> {_git_date(spec.tagged_at)}\n\n"
                f"{spec.message}"
            )
            tag_sha = self._run("mktag", input=tag_object).stdout.strip()
            lines.append(f"create refs/tags/{spec.name} {tag_sha}")
        lines += ["prepare", "commit", ""]
        proc = self._run("update-ref", "--stdin", input="\n".join(lines), check=False)
        if proc.returncode != 0:
            # The only ways a prepared transaction fails here: the branch moved, or a tag
            # of the same name was created by a concurrent writer. Both mean "re-read".
            raise StaleHead(proc.stderr.strip())
        self._sync_worktree(commit, list(change.files))
        return commit

    def _sync_worktree(self, commit: str, paths: list[str]) -> None:
        """Bring the checked-out files we wrote up to date, so `git status` stays clean."""
        if self.bare or self._current_branch_or_none() != self.branch:
            return
        self._run("checkout", "-q", commit, "--", *paths)
