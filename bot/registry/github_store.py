"""The registry over GitHub's Git Data API, through the one GitHub adapter.

A write is: a tree (file contents inline, on the parent's tree), a commit with
explicit author and committer dates, then `PATCH git/refs/heads/<branch>` with
`force: false`. That ref update is the only atomic step GitHub offers: a 422
means another writer got there first (`StaleHead`: the service re-reads,
re-gates and retries). Tags come after the branch moved (`POST git/tags`
with the planned tagger date, then `POST git/refs`), so the commit message
records every planned tag (`Mlbot-Tag:` lines, see `plan.tag_line`). If a tag
still cannot be created after retries, the next read heals it: registry
commits of the model whose declared tags have no ref get them, idempotently
(a 422 "Reference already exists" with the same target is success), before
anything is planned on that state. `mlbot registry check` names a missing tag
until then. A commit without its tags is healed, never wrong.

Reads cost a fixed number of calls: the branch ref, one recursive tree, the
blobs actually needed, one `matching-refs` listing of the model's tags, and
one page of the model's registry commits (whose `Mlbot-Tag` lines give the
targets and dates of recent tags, and say which tags must exist). Annotated
tag objects are fetched only for a tag whose target or date an operation
needs and the commits do not tell. Objects are immutable, so trees, blobs and
tag objects are cached by SHA.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.errors import InputError
from bot.registry import plan, schema, semver, tags
from bot.registry.plan import NEW_COMMIT, Change, TagSpec
from bot.registry.schema import StagesFile, VersionRecord
from bot.registry.state import ModelState
from bot.registry.store import CommitInfo, Identity, Snapshot, StaleHead, read_snapshot

if TYPE_CHECKING:
    from bot.github.client import GitHub

log = logging.getLogger(__name__)

# Commits of one model read per write: enough to see every recent tag's target and date,
# and every commit a failed tag creation could have left behind.
LOG_PAGE = 30
TAG_ATTEMPTS = 3


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def _quote(ref: str) -> str:
    # Tag names carry '#', '@' and '!': each must reach GitHub as part of the path.
    return urllib.parse.quote(ref, safe="/")


class GitHubStoreError(InputError):
    """GitHub refused a registry request in a way a retry will not fix."""


def _transient() -> tuple[type[Exception], ...]:
    """What a request can end in once the adapter's own retries are spent."""
    import requests
    from github import GithubException

    return (GithubException, requests.RequestException)


class _LazyTag:
    """A tag from a `matching-refs` listing; target, date and message fetched on first use."""

    annotated = True

    def __init__(self, store: GitHubStore, name: str, sha: str, known: TagSpec | None) -> None:
        self.name = name
        self.sha = sha
        self._store = store
        self._known = known
        self._resolved: tags.TagRef | None = None

    def _get(self) -> Any:
        if self._known is not None:
            return self._known
        if self._resolved is None:
            self._resolved = self._store._tag_object(self.name, self.sha)
        return self._resolved

    @property
    def target(self) -> str:
        return self._get().target

    @property
    def tagged_at(self) -> dt.datetime:
        return self._get().tagged_at

    @property
    def message(self) -> str:
        return self._get().message

    def _object(self) -> tags.TagRef:
        # Who tagged is only in the tag object; a commit's Mlbot-Tag line does not say.
        if self._resolved is None:
            self._resolved = self._store._tag_object(self.name, self.sha)
        return self._resolved

    @property
    def tagger(self) -> str:
        return self._object().tagger

    @property
    def tagger_email(self) -> str:
        return self._object().tagger_email

    @property
    def tagged_by(self) -> str:
        return self._object().tagged_by


class GitHubStore:
    """The `RegistryStore` protocol over one repository branch, through `bot.github.client`."""

    def __init__(
        self,
        gh: GitHub,
        full_name: str,
        branch: str,
        *,
        log_page: int = LOG_PAGE,
        tag_attempts: int = TAG_ATTEMPTS,
    ) -> None:
        self.gh = gh
        self.full_name = full_name
        self.branch = branch
        self.log_page = log_page
        self.tag_attempts = tag_attempts
        self._trees: dict[str, tuple[str, dict[str, str]]] = {}
        self._recent: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._history: dict[str, set[str]] = {}  # head -> every commit it contains
        self._blobs: dict[str, bytes] = {}
        self._tag_objects: dict[str, tags.TagRef] = {}
        # One lock per immutable object being fetched: a job's parallel reads of the same
        # tree or blob wait for the first instead of asking GitHub twice.
        self._fetching: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        # Tags a write could not create (healed by the next read of the model).
        self.unhealed: list[str] = []

    def __repr__(self) -> str:
        return f"GitHubStore({self.full_name!r}, branch={self.branch!r})"

    # -- HTTP ---------------------------------------------------------------------------------
    @property
    def _base(self) -> str:
        return f"/repos/{self.full_name}"

    def _call(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        return self.gh.rest(method, self._base + path, params, body)

    @staticmethod
    def _status(exc: Exception) -> int | None:
        return getattr(exc, "status", None)

    # -- reading ------------------------------------------------------------------------------
    def head(self) -> str | None:
        from github import GithubException

        try:
            data = self._call("GET", f"/git/ref/{_quote('heads/' + self.branch)}")
        except GithubException as exc:
            # 404: no such branch; 409: an empty repository.
            if self._status(exc) in (404, 409):
                return None
            raise
        return data["object"]["sha"]

    def _once(self, key: str) -> threading.Lock:
        with self._guard:
            return self._fetching.setdefault(key, threading.Lock())

    def _tree(self, head: str) -> tuple[str, dict[str, str]]:
        """(root tree SHA, path -> blob SHA) of a commit: one recursive listing."""
        with self._once(f"tree:{head}"):
            return self._fetch_tree(head)

    def _fetch_tree(self, head: str) -> tuple[str, dict[str, str]]:
        found = self._trees.get(head)
        if found is not None:
            return found
        data = self._call("GET", f"/git/trees/{head}", params={"recursive": "1"})
        files = {e["path"]: e["sha"] for e in data["tree"] if e["type"] == "blob"}
        if data.get("truncated"):
            # A huge repository: list only the registry subtree, which is what we read.
            root = self._call("GET", f"/git/trees/{head}")
            files = {e["path"]: e["sha"] for e in root["tree"] if e["type"] == "blob"}
            sub = next((e for e in root["tree"] if e["path"] == "registry"), None)
            if sub is not None and sub["type"] == "tree":
                reg = self._call("GET", f"/git/trees/{sub['sha']}", params={"recursive": "1"})
                if reg.get("truncated"):
                    raise GitHubStoreError(
                        f"{self.full_name}: the registry/ tree is too large for one listing."
                    )
                files.update(
                    {f"registry/{e['path']}": e["sha"] for e in reg["tree"] if e["type"] == "blob"}
                )
        found = (data["sha"], files)
        self._trees[head] = found
        return found

    def _blob(self, sha: str) -> bytes:
        with self._once(f"blob:{sha}"):
            found = self._blobs.get(sha)
            if found is None:
                data = self._call("GET", f"/git/blobs/{sha}")
                found = base64.b64decode(data["content"])
                self._blobs[sha] = found
            return found

    def on_branch(self, head: str, commits: list[str]) -> set[str]:
        # Only asked about versions GTO registered with a tag alone (none once imported):
        # the branch's whole history, paged, once per head and store.
        if not commits:
            return set()
        history = self._history.get(head)
        if history is None:
            listed = self.gh.pages(self._base + "/commits", {"sha": head}, per_page=100)
            history = {c["sha"] for c in listed}
            self._history[head] = history
        return {c for c in commits if c in history}

    def list_files(self, head: str, prefix: str) -> list[str]:
        return sorted(p for p in self._tree(head)[1] if p.startswith(prefix))

    def blob_ids(self, head: str, paths: list[str]) -> dict[str, str | None]:
        """Git's blob id of each path at `head` (equal ids, equal contents): one listing."""
        listing = self._tree(head)[1]
        return {path: listing.get(path) for path in paths}

    def read_files(self, head: str, paths: list[str]) -> dict[str, bytes | None]:
        if not paths:
            return {}
        listing = self._tree(head)[1]
        return {p: self._blob(listing[p]) if p in listing else None for p in paths}

    def _tag_listing(self, model: str | None) -> list[tuple[str, str, str]]:
        """(tag name, object SHA, object type) of a model's tags (or all tags): one call."""
        # One prefix for both `<model>@` and `<model>#`; other models sharing the prefix
        # (churn-eu) are filtered out below.
        prefix = f"tags/{model}" if model else "tags"
        data = self._call("GET", f"/git/matching-refs/{_quote(prefix)}")
        out = []
        for ref in data:
            name = ref["ref"].removeprefix("refs/tags/")
            if model is not None:
                event = tags.parse(tags.TagRef(name, "", dt.datetime.min))
                if event is None or event.model != model:
                    continue
            out.append((name, ref["object"]["sha"], ref["object"]["type"]))
        return out

    def _tag_object(self, name: str, sha: str) -> tags.TagRef:
        found = self._tag_objects.get(sha)
        if found is None:
            data = self._call("GET", f"/git/tags/{sha}")
            found = tags.TagRef(
                name=name,
                target=data["object"]["sha"],
                tagged_at=_parse_iso(data["tagger"]["date"]),
                message=data["message"],
                tagger=data["tagger"].get("name") or "",
                tagger_email=data["tagger"].get("email") or "",
            )
            self._tag_objects[sha] = found
        return found

    def tags(self, model: str | None = None) -> list[tags.TagRef]:
        refs = []
        for name, sha, kind in self._tag_listing(model):
            if kind == "tag":
                refs.append(self._tag_object(name, sha))
            else:  # a lightweight tag: no date, as `git for-each-ref` reports it
                refs.append(
                    tags.TagRef(
                        name, sha, dt.datetime.fromtimestamp(0, dt.timezone.utc), annotated=False
                    )
                )
        return refs

    def _commits(
        self, head: str, path: str, per_page: int, pages: int | None = None
    ) -> list[dict[str, Any]]:
        listed = self.gh.pages(
            self._base + "/commits", {"sha": head, "path": path}, per_page=per_page, max_pages=pages
        )
        return list(listed)

    def _recent_commits(self, head: str, model: str) -> list[dict[str, Any]]:
        """The newest `log_page` registry commits of a model at `head`: one page, read once."""
        key = (head, model)
        if key not in self._recent:
            self._recent[key] = self._commits(head, f"registry/{model}/", self.log_page, pages=1)
        return self._recent[key]

    def recent_log(self, model: str, head: str) -> list[CommitInfo]:
        """The model's newest registry commits at `head`, newest first (what `read_model`
        already read for its tags: asking costs no call)."""
        return [
            CommitInfo(c["sha"], _parse_iso(c["commit"]["author"]["date"]), c["commit"]["message"])
            for c in self._recent_commits(head, model)
        ]

    def log(self, model: str | None = None) -> list[CommitInfo]:
        """Registry commits, newest first: of one model, or of every model."""
        head = self.head()
        if head is None:
            return []
        return [
            CommitInfo(c["sha"], _parse_iso(c["commit"]["author"]["date"]), c["commit"]["message"])
            for c in self._commits(head, f"registry/{model}/" if model else "registry/", 100)
        ]

    def read_model(self, model: str, head: str | None) -> ModelState:
        versions: list[str] = []
        stages: StagesFile | None = None
        events: list[tags.TagEvent] = []
        last_known: dt.datetime | None = None
        if head is not None:
            listing = self._tree(head)[1]
            prefix = f"registry/{model}/versions/"
            for path in listing:
                name = path[len(prefix) :].removesuffix(".yaml")
                if path.startswith(prefix) and path.endswith(".yaml") and semver.is_version(name):
                    versions.append(name)
            path = schema.stages_path(model)
            if path in listing:
                stages = schema.parse_file(path, self._blob(listing[path]), StagesFile)
            existing = {name: (sha, kind) for name, sha, kind in self._tag_listing(model)}
            declared = self._heal(model, head, existing)
            for name, (sha, kind) in existing.items():
                ref: Any
                if kind == "tag":
                    ref = _LazyTag(self, name, sha, declared.get(name))
                else:
                    ref = tags.TagRef(
                        name, sha, dt.datetime.fromtimestamp(0, dt.timezone.utc), annotated=False
                    )
                if event := tags.parse(ref):
                    events.append(event)
            last_known = max((s.tagged_at for s in declared.values()), default=None)
        versions.sort(key=semver.sort_key)
        events.sort(key=lambda e: (e.counter or 0, e.ref.name))
        records: dict[str, VersionRecord] = {}

        def load(version: str) -> VersionRecord:
            if version not in records:
                path = schema.version_path(model, version)
                content = self.read_files(head, [path])[path] if head else None
                if content is None:
                    raise InputError(f"{path} does not exist.")
                records[version] = schema.parse_file(path, content, VersionRecord)
            return records[version]

        last: Callable[[], dt.datetime | None] | None = None
        if last_known is not None:
            # Tag dates strictly increase per model, so the newest declared tag is the latest.
            last = lambda: last_known  # noqa: E731
        return ModelState(
            model,
            head,
            versions,
            stages,
            events,
            load,
            last_tag_time=last,
            read_files=self.read_files,
            on_branch=self.on_branch,
        )

    def _heal(
        self, model: str, head: str, existing: dict[str, tuple[str, str]]
    ) -> dict[str, TagSpec]:
        """Create the tags recent registry commits declared but lack; return every declared tag.

        Raises if a missing tag still cannot be created, so nothing is planned on a
        registry whose tags disagree with its commits.
        """
        declared: dict[str, TagSpec] = {}
        missing: list[tuple[TagSpec, Identity]] = []
        for commit in reversed(self._recent_commits(head, model)):
            author = commit["commit"]["author"]
            for spec in plan.declared_tags(commit["sha"], commit["commit"]["message"]):
                declared[spec.name] = spec
                if spec.name not in existing:
                    missing.append((spec, Identity(author["name"], author["email"])))
        for spec, who in missing:
            log.warning("%s: creating tag %s its commit declared", self.full_name, spec.name)
            sha = self._create_tag(spec, spec.target, who)
            existing[spec.name] = (sha, "tag")
        return declared

    def snapshot(self, head: str | None) -> Snapshot:
        return read_snapshot(self, head)

    # -- writing ------------------------------------------------------------------------------
    def write(self, parent: str | None, change: Change, author: Identity) -> str:
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        entries = []
        for path, content in change.files.items():
            try:
                entries.append(
                    {"path": path, "mode": "100644", "type": "blob", "content": content.decode()}
                )
            except UnicodeDecodeError:
                blob = self._call(
                    "POST",
                    "/git/blobs",
                    {"content": base64.b64encode(content).decode(), "encoding": "base64"},
                )
                entries.append({"path": path, "mode": "100644", "type": "blob", "sha": blob["sha"]})
        body: dict[str, Any] = {"tree": entries}
        if parent is not None:
            body["base_tree"] = self._tree_sha(parent)
        tree = self._call("POST", "/git/trees", body)["sha"]
        request: dict[str, Any] = {
            "message": change.message,
            "tree": tree,
            "parents": [parent] if parent else [],
        }
        if not author.github_app:
            person = {"name": author.name, "email": author.email, "date": _iso(now)}
            request.update(author=person, committer=person)
        commit = self._call("POST", "/git/commits", request)["sha"]
        self._move_branch(parent, commit)
        self._trees.pop(commit, None)

        for spec in change.tags:
            target = commit if spec.target == NEW_COMMIT else spec.target
            try:
                self._create_tag(spec, target, author)
            except (*_transient(), GitHubStoreError) as exc:
                # The commit is in and declares this tag: the next read creates it.
                log.warning(
                    "%s: tag %s not created yet (%s); the next read will create it",
                    self.full_name,
                    spec.name,
                    type(exc).__name__,
                )
                self.unhealed.append(spec.name)
        return commit

    def _tree_sha(self, commit: str) -> str:
        if commit in self._trees:
            return self._trees[commit][0]
        return self._call("GET", f"/git/commits/{commit}")["tree"]["sha"]

    def _move_branch(self, parent: str | None, commit: str) -> None:
        from github import GithubException

        ref = f"heads/{self.branch}"
        sent = self.gh.request_count
        try:
            if parent is None:
                self._call("POST", "/git/refs", {"ref": f"refs/{ref}", "sha": commit})
            else:
                self._call("PATCH", f"/git/refs/{_quote(ref)}", {"sha": commit, "force": False})
        except _transient() as exc:
            if not isinstance(exc, GithubException) or self._status(exc) != 422:
                # No answer we can trust: the update may have landed before the connection
                # broke. Say "done" only if the branch has our commit.
                if self._on_branch(commit):
                    return
                raise
            # A retried update may have landed the first time, and then lost to a later
            # writer on the retry: only then is our commit already on the branch.
            if self.gh.request_count - sent > 1 and self._on_branch(commit):
                return
            raise StaleHead(
                f"{self.full_name}@{self.branch} moved since {(parent or 'nothing')[:12]}"
            ) from None

    def _on_branch(self, commit: str) -> bool:
        head = self.head()
        if head is None:
            return False
        recent = self._call("GET", "/commits", params={"sha": head, "per_page": 100})
        return any(c["sha"] == commit for c in recent)

    def _create_tag(self, spec: TagSpec, target: str, tagger: Identity) -> str:
        """The tag object and its ref, retried; an existing ref on the same target is success."""
        from github import GithubException

        error: Exception | None = None
        for _attempt in range(self.tag_attempts):
            try:
                return self._create_tag_once(spec, target, tagger)
            except _transient() as exc:
                status = self._status(exc)
                client_error = status is not None and status < 500 and status not in (403, 429)
                if isinstance(exc, GithubException) and client_error:
                    raise
                error = exc
        assert error is not None
        raise error

    def _create_tag_once(self, spec: TagSpec, target: str, tagger: Identity) -> str:
        from github import GithubException

        obj = self._call(
            "POST",
            "/git/tags",
            {
                "tag": spec.name,
                "message": spec.message,
                "object": target,
                "type": "commit",
                "tagger": {
                    "name": tagger.name,
                    "email": tagger.email,
                    "date": _iso(spec.tagged_at),
                },
            },
        )
        try:
            self._call("POST", "/git/refs", {"ref": f"refs/tags/{spec.name}", "sha": obj["sha"]})
        except GithubException as exc:
            if self._status(exc) != 422:
                raise
            current = self._call("GET", f"/git/ref/{_quote('tags/' + spec.name)}")["object"]
            same = current["sha"] == obj["sha"] or (
                current["type"] == "tag"
                and self._tag_object(spec.name, current["sha"]).target == target
            )
            if not same:
                raise GitHubStoreError(
                    f"tag {spec.name} already exists on another commit; run `mlbot registry check`."
                ) from None
            return current["sha"]
        return obj["sha"]
