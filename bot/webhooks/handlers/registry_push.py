"""`push` to the default branch: registry changes mlbot did not make are reported at once.

Every commit the push brings is judged, not only those the payload lists
(GitHub lists at most 2048, and at most 3000 files of each): the commits come
from the compare API between the push's `before` and `after`, the files of
one the payload does not fully list from its trees. Each commit that touches
`registry/` is looked up (GitHub's author account, whether GitHub verified
it) and judged by `bot.registry.tamper`, against the policy and CODEOWNERS as
they were where the push began, so a push cannot relax the rules it is
judged by. Findings go into the model's `mlbot:tamper` issue, which freezes
its promotions until a code owner closes it; a close by anyone else is
undone. Pushes to other branches are a pull request's business (and gate
nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.chatops.repository import DefaultBranch
from bot.webhooks.payloads import IssuesEvent, PushEvent
from bot.webhooks.router import Router

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.registry.tamper import Rules
    from bot.webhooks.context import JobContext

router = Router()

NO_COMMIT = "0" * 40
# GitHub's documented caps on a push payload (the OpenAPI description of `push`): beyond
# them the payload is silent, so a commit at a cap is read from the API instead.
PAYLOAD_COMMITS = 2048
PAYLOAD_FILES = 3000
COMPARE_PAGE = 100


class _Pinned(DefaultBranch):
    """The default branch as it was at one commit: config, policy and CODEOWNERS there."""

    def __init__(self, gh: Any, full_name: str, branch: str, sha: str) -> None:
        super().__init__(gh, full_name, branch)
        self._sha = sha

    @property
    def head(self) -> str | None:
        return self._sha


@router.register("push")
def on_push(event: PushEvent, ctx: JobContext) -> None:
    from bot.chatops import tamper_issue
    from bot.chatops.context import RepoContext
    from bot.registry import tamper

    repo = event.repository
    if repo is None or event.deleted:
        return
    branch = repo.default_branch or "main"
    if event.ref != f"refs/heads/{branch}":
        return
    rc = RepoContext(ctx.github, repo.full_name, branch, ctx.settings.bot_login)
    before = event.before if event.before and event.before != NO_COMMIT else None
    touching = [
        (sha, paths)
        for sha, paths in _pushed(rc, event, before)
        if tamper.touches_registry([p for kind in paths.values() for p in kind])
    ]
    if not touching:
        return
    start = _Pinned(rc.gh, rc.full_name, branch, before) if before else None
    pusher = event.sender.login if event.sender else None
    findings: dict[str, list[tamper.Finding]] = {}
    accepted: list[tamper.Accepted] = []
    for sha, paths in touching:
        data = rc.call("GET", rc.repo_path(f"/commits/{sha}"))
        git = data.get("commit") or {}
        commit = tamper.PushedCommit(
            sha=sha,
            author_login=(data.get("author") or {}).get("login"),
            author_name=str((git.get("author") or {}).get("name") or ""),
            verified=bool((git.get("verification") or {}).get("verified")),
            added=tuple(paths["added"]),
            modified=tuple(paths["modified"]),
            removed=tuple(paths["removed"]),
            message=str(git.get("message") or ""),
            pusher=pusher,
        )
        models = tamper.models_of(commit.registry_paths)
        rules = {m: _rules(start, m) for m in models}
        parents = [p["sha"] for p in data.get("parents") or []]
        files = _revisions(rc, parents[0] if parents else None, sha)
        for finding in tamper.judge(
            commit, bot_login=rc.bot_login, rules=rules, files=files, accepted=accepted
        ):
            findings.setdefault(finding.model, []).append(finding)
    for allowed in accepted:
        # Not an approval: the audit log (the commit) keeps the CLI's claims as claims.
        ctx.log.info(
            "pushed registry change accepted",
            extra={
                "model": allowed.model,
                "kind": allowed.kind,
                "stages": list(allowed.stages),
                "commit": allowed.commit.sha,
                "pusher": pusher,
            },
        )
    for model, found in sorted(findings.items()):
        number = tamper_issue.report(rc.gh, rc.full_name, model, found, branch)
        ctx.log.warning(
            "registry changed without mlbot",
            extra={"model": model, "issue": number, "commits": [f.commit.sha for f in found]},
        )


def _pushed(
    rc: RepoContext, event: PushEvent, before: str | None
) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """(sha, {added, modified, removed}) of every commit the push brings, oldest first."""
    listed = {c.id: c for c in event.commits}
    if before is None or not event.after:
        # A new branch: there is nothing to compare with (GitHub refuses to delete a
        # default branch, so this is a repository's first push).
        shas = [c.id for c in event.commits]
    else:
        shas = _compare(rc, before, event.after)
    for sha in shas:
        c = listed.get(sha)
        if c is not None and max(len(c.added), len(c.modified), len(c.removed)) < PAYLOAD_FILES:
            yield sha, {"added": c.added, "modified": c.modified, "removed": c.removed}
        else:
            yield sha, _tree_changes(rc, sha)


def _compare(rc: RepoContext, before: str, after: str) -> list[str]:
    """The commits from `before` to `after` (`git log before..after`), oldest first."""
    shas: list[str] = []
    page = 1
    while True:
        data = rc.call(
            "GET",
            rc.repo_path(f"/compare/{before}...{after}"),
            {"per_page": COMPARE_PAGE, "page": page},
        )
        commits = data.get("commits") or []
        shas += [c["sha"] for c in commits]
        if len(commits) < COMPARE_PAGE or len(shas) >= int(data.get("total_commits") or 0):
            return shas
        page += 1


def _tree_changes(rc: RepoContext, sha: str) -> dict[str, list[str]]:
    """What a commit changed under `registry/` against its first parent, from the trees."""
    data = rc.call("GET", rc.repo_path(f"/git/commits/{sha}"))
    parents = [p["sha"] for p in data.get("parents") or []]
    store = rc.store

    def listing(commit: str) -> dict[str, str | None]:
        return store.blob_ids(commit, store.list_files(commit, "registry/"))

    after = listing(sha)
    before = listing(parents[0]) if parents else {}
    return {
        "added": sorted(set(after) - set(before)),
        "modified": sorted(p for p in after if p in before and before[p] != after[p]),
        "removed": sorted(set(before) - set(after)),
    }


def _revisions(rc: RepoContext, parent: str | None, sha: str):
    from bot.registry.tamper import Revisions

    store = rc.store

    def at(commit: str | None):
        def read(path: str) -> bytes | None:
            return store.read_files(commit, [path])[path] if commit else None

        return read

    return Revisions(before=at(parent), after=at(sha))


def _rules(start: DefaultBranch | None, model: str) -> Rules:
    """What the policy and CODEOWNERS where the push began allow for `model`."""
    from bot.errors import MlbotError
    from bot.registry import schema
    from bot.registry.tamper import Rules

    if start is None:
        return Rules()
    try:
        policy = start.policy(model)
        owners, _where = start.owners_of(schema.stages_path(model))
    except MlbotError:
        return Rules()  # no readable policy: nobody but mlbot may write
    return Rules(
        writers=tuple(policy.registration.writers),
        cli_stages=tuple(s for s in policy.stages if policy.for_stage(s).allow_cli),
        owners=tuple(owners),
        history_limit=policy.registration.history_limit,
    )


@router.register("issues", action="closed")
def on_tamper_closed(event: IssuesEvent, ctx: JobContext) -> None:
    """A tamper report closed: the freeze lifts only when a code owner closed it."""
    from bot.chatops import tamper_issue
    from bot.chatops.context import RepoContext
    from bot.registry import schema

    repo = event.repository
    names = [label.name for label in event.issue.labels]
    if repo is None or tamper_issue.TAMPER_LABEL not in names or event.issue.is_pull_request:
        return
    models = [n.removeprefix("model:") for n in names if n.startswith("model:")]
    closer = event.sender.login if event.sender else ""
    if not models or closer.lower() == ctx.settings.bot_login.lower():
        return
    rc = RepoContext(
        ctx.github, repo.full_name, repo.default_branch or "main", ctx.settings.bot_login
    )
    refused: list[tuple[str, list[str]]] = []
    for model in models:
        owners, _where = rc.owners_of(schema.stages_path(model))
        if closer.lower() not in {o.lower() for o in owners}:
            refused.append((model, owners))
    if not refused:
        return
    tamper_issue.reopen(rc.gh, rc.full_name, event.issue.number, closer, refused)
    ctx.log.warning(
        "tamper report closed by someone who is not a code owner: reopened",
        extra={"issue": event.issue.number, "closer": closer},
    )
