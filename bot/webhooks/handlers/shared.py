"""What the handlers of one job read once and share: the repository's default branch, the
pull requests of a workflow run.

One delivery runs several handlers (a completed workflow run: the metric comment, then
the check runs); each would otherwise read `.github/mlbot.yml`, the registry and the PRs
again. Shared for the job only: the next delivery reads afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.webhooks.context import JobContext
    from bot.webhooks.payloads import WorkflowRunEvent


def repo_context(ctx: JobContext, event: Any) -> RepoContext:
    """The job's one `RepoContext` for the delivery's repository."""
    from bot.chatops.context import RepoContext

    repo = event.repository
    branch = repo.default_branch or "main"

    def build() -> RepoContext:
        return RepoContext(
            ctx.github, repo.full_name, branch, ctx.settings.bot_login, model_lock=ctx.model_lock
        )

    key = f"repo:{repo.full_name.lower()}:{branch}"
    if key not in ctx.shared:
        ctx.shared[key] = build()
    return ctx.shared[key]


def run_pulls(ctx: JobContext, event: WorkflowRunEvent) -> list[dict[str, Any]]:
    """The open PRs a workflow run evaluated (read once per job)."""
    from bot.chatops.run_evidence import pulls_of_run

    key = f"pulls:{event.workflow_run.id}"
    if key not in ctx.shared:
        ctx.shared[key] = pulls_of_run(ctx.github, event.repository.full_name, event)
    return ctx.shared[key]
