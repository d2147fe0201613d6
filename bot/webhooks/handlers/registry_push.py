"""`push` to the default branch: registry changes mlbot did not make are reported at once.

Each pushed commit that touches `registry/` is looked up (GitHub's author
account and whether GitHub verified it) and judged by `bot.registry.tamper`;
findings go into the model's `mlbot:tamper` issue, which freezes its
promotions until a code owner closes it. Pushes to other branches are a
pull request's business (and gate nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.webhooks.payloads import PushEvent
from bot.webhooks.router import Router

if TYPE_CHECKING:
    from bot.webhooks.context import JobContext

router = Router()


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
    touching = [
        c for c in event.commits if tamper.touches_registry([*c.added, *c.modified, *c.removed])
    ]
    if not touching:
        return
    rc = RepoContext(ctx.github, repo.full_name, branch, ctx.settings.bot_login)
    findings: dict[str, list[tamper.Finding]] = {}
    for pushed in touching:
        data = rc.call("GET", rc.repo_path(f"/commits/{pushed.id}"))
        commit = tamper.PushedCommit(
            sha=pushed.id,
            author_login=(data.get("author") or {}).get("login"),
            author_name=str(((data.get("commit") or {}).get("author") or {}).get("name") or ""),
            verified=bool(((data.get("commit") or {}).get("verification") or {}).get("verified")),
            added=tuple(pushed.added),
            modified=tuple(pushed.modified),
            removed=tuple(pushed.removed),
        )
        for finding in tamper.judge(
            commit, bot_login=rc.bot_login, writers=_writers(rc, commit.registry_paths)
        ):
            findings.setdefault(finding.model, []).append(finding)
    for model, found in sorted(findings.items()):
        number = tamper_issue.report(rc.gh, rc.full_name, model, found, branch)
        ctx.log.warning(
            "registry changed without mlbot",
            extra={"model": model, "issue": number, "commits": [f.commit.sha for f in found]},
        )


def _writers(rc, paths: list[str]) -> list[str]:
    """The registration writers the policy allows, for the models these paths belong to."""
    from bot.errors import MlbotError

    models = {p.split("/")[1] for p in paths if p.count("/") >= 2}
    writers: list[str] = []
    for model in models:
        try:
            writers += rc.policy(model).registration.writers
        except MlbotError:
            return []  # no readable policy: nobody but mlbot may write
    return writers
