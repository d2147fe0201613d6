"""`push` to the default branch: registry changes mlbot did not make are reported at once.

Every commit the push brings is judged, not only those the payload lists
(GitHub lists at most 2048, and at most 3000 files of each): a long push's
commits come from the compare API between its `before` and `after`, the
files of one the payload does not fully list from its trees. A force-push
is also judged on what it dropped. Each commit that touches
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
from bot.rendering import code
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
# A payload listing fewer commits than this is taken as complete. GitHub documents 2048
# for webhooks, but its payloads (and the Events API) used to stop at 20: from 20 on, the
# compare API is asked, which costs one call per 100 commits.
PAYLOAD_SURE = 20


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
    pusher = event.sender.login if event.sender else None
    findings: dict[str, list[tamper.Finding]] = {}
    if event.forced and before and event.after:
        for finding in _dropped(rc, before, event.after, pusher):
            findings.setdefault(finding.model, []).append(finding)
    if not touching and not findings:
        return
    start = _Pinned(rc.gh, rc.full_name, branch, before) if before else None
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
        if commit.by_mlbot(rc.bot_login):
            continue  # mlbot's own write: no policy, CODEOWNERS or tree to read for it
        models = tamper.models_of(commit.registry_paths)
        rules = {m: _rules(start, m) for m in models}
        parents = [p["sha"] for p in data.get("parents") or []]
        files = _revisions(rc, parents[0] if parents else None, sha)
        for finding in tamper.judge(
            commit, bot_login=rc.bot_login, rules=rules, files=files, accepted=accepted
        ):
            findings.setdefault(finding.model, []).append(finding)
    for allowed in accepted:
        if allowed.kind == "cli-promotion" and (why := _frozen(rc, allowed, findings)):
            paths = tuple(allowed.commit.registry_paths)
            findings.setdefault(allowed.model, []).append(
                tamper.Finding(allowed.commit, allowed.model, paths, why)
            )
            continue
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


def _frozen(rc: RepoContext, allowed: Any, findings: dict[str, list[Any]]) -> str:
    """Why an allowed CLI promotion still goes against a freeze of its model ("" if not):
    a tamper report (open, or made by this very push) or an incident freezing the stage.
    A freeze stops promotions however they are made."""
    from bot.chatops import tamper_issue
    from bot.incidents import freeze

    model = allowed.model
    numbers = [int(i["number"]) for i in tamper_issue.open_issues(rc.gh, rc.full_name, model)]
    numbers += [n for stage in allowed.stages for n in freeze.freezing(rc, model, stage)]
    if not numbers and not findings.get(model):
        return ""
    where = ", ".join(f"#{n}" for n in sorted(set(numbers))) or "this report"
    stages = ", ".join(code(s) for s in allowed.stages)
    return (
        f"it is a CLI promotion into {stages}, which the policy allows, but promotions of"
        f" {model} are frozen by {where}, and a freeze holds for the CLI too"
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
    elif len(event.commits) < PAYLOAD_SURE:
        shas = [c.id for c in event.commits]
    else:
        shas = _compare(rc, before, event.after)
    for sha in shas:
        c = listed.get(sha)
        if c is not None and max(len(c.added), len(c.modified), len(c.removed)) < PAYLOAD_FILES:
            yield sha, {"added": c.added, "modified": c.modified, "removed": c.removed}
        else:
            yield sha, _tree_changes(rc, sha)


def _dropped(rc: RepoContext, before: str, after: str, pusher: str | None) -> list[Any]:
    """What a force-push took out of the registry: the changes of the commits it dropped
    (from where the two heads part to `before`), one finding per model."""
    from bot.registry import tamper

    data = rc.call("GET", rc.repo_path(f"/compare/{after}...{before}"), {"per_page": 1, "page": 1})
    dropped = int(data.get("total_commits") or 0)
    base = (data.get("merge_base_commit") or {}).get("sha")
    if not dropped or not base:
        return []
    changes = _registry_diff(rc, base, before)
    paths = sorted({p for kind in changes.values() for p in kind})
    if not paths:
        return []
    who = pusher or "an unknown account"
    gone = tamper.PushedCommit(sha=before, author_login=pusher, author_name=who, verified=False)
    why = (
        f"a force-push by {code(who)} replaced the branch, dropping this commit and"
        f" {dropped - 1} before it, which had changed these files: the registry went back"
        " without mlbot, and its audit log lost those commits"
    )
    by_model: dict[str, list[str]] = {}
    for path in paths:
        by_model.setdefault(path.split("/")[1] if path.count("/") >= 2 else "?", []).append(path)
    return [tamper.Finding(gone, m, tuple(p), why) for m, p in sorted(by_model.items())]


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
    return _registry_diff(rc, parents[0] if parents else None, sha)


def _registry_diff(rc: RepoContext, old: str | None, new: str) -> dict[str, list[str]]:
    """{added, modified, removed} under `registry/` from commit `old` to commit `new`."""
    store = rc.store

    def listing(commit: str) -> dict[str, str | None]:
        return store.blob_ids(commit, store.list_files(commit, "registry/"))

    after = listing(new)
    before = listing(old) if old else {}
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

    names = [label.name for label in event.issue.labels]
    if tamper_issue.TAMPER_LABEL not in names:
        return
    models = [n.removeprefix("model:") for n in names if n.startswith("model:")]
    refused = _not_owner(event, ctx, models)
    if refused:
        rc, closer, owners = refused
        tamper_issue.reopen(rc.gh, rc.full_name, event.issue.number, closer, owners)
        ctx.log.warning(
            "tamper report closed by someone who is not a code owner: reopened",
            extra={"issue": event.issue.number, "closer": closer},
        )


@router.register("issues", action="unlabeled")
def on_tamper_unlabeled(event: IssuesEvent, ctx: JobContext) -> None:
    """A label that makes an open report freeze a model removed: put back unless a code
    owner removed it (an open issue without both labels freezes nothing)."""
    from bot.chatops import tamper_issue

    removed = event.label.name if event.label else ""
    names = [label.name for label in event.issue.labels]
    if event.issue.state != "open":
        return
    if removed == tamper_issue.TAMPER_LABEL:
        models = [n.removeprefix("model:") for n in names if n.startswith("model:")]
    elif removed.startswith("model:") and tamper_issue.TAMPER_LABEL in names:
        models = [removed.removeprefix("model:")]
    else:
        return
    refused = _not_owner(event, ctx, models)
    if refused:
        rc, who, owners = refused
        tamper_issue.relabel(rc.gh, rc.full_name, event.issue.number, removed, who, owners)
        ctx.log.warning(
            "tamper report unlabelled by someone who is not a code owner: label restored",
            extra={"issue": event.issue.number, "sender": who, "label": removed},
        )


def _not_owner(
    event: IssuesEvent, ctx: JobContext, models: list[str]
) -> tuple[RepoContext, str, list[tuple[str, list[str]]]] | None:
    """(context, sender, [(model, its owners)]) when the sender owns none of `models`."""
    from bot.chatops.context import RepoContext
    from bot.registry import schema

    repo = event.repository
    sender = event.sender.login if event.sender else ""
    if repo is None or event.issue.is_pull_request or not models:
        return None
    if sender.lower() == ctx.settings.bot_login.lower():
        return None
    rc = RepoContext(
        ctx.github, repo.full_name, repo.default_branch or "main", ctx.settings.bot_login
    )
    refused: list[tuple[str, list[str]]] = []
    for model in models:
        owners, _where = rc.owners_of(schema.stages_path(model))
        if sender.lower() not in {o.lower() for o in owners}:
            refused.append((model, owners))
    return (rc, sender, refused) if refused else None
