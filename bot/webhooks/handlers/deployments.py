"""Deployments: re-synced from registry pushes, and judged as a deployment protection rule.

`push` to the default branch changing `registry/<model>/stages.yaml` -> the model's
deployments are made to match the registry: for pushes by people (the CLI, a merged
PR), and for the bot's own when its projection failed.
`deployment_protection_rule.requested` -> approved or rejected through the callback.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.webhooks.handlers.shared import repo_context
from bot.webhooks.payloads import DeploymentProtectionRuleEvent, PushEvent
from bot.webhooks.router import Router

if TYPE_CHECKING:
    from bot.webhooks.context import JobContext

router = Router()
_STAGES = re.compile(r"^registry/(?P<model>[a-z0-9-]+)/stages\.yaml$")


@router.register("push")
def on_push(event: PushEvent, ctx: JobContext) -> None:
    from bot.chatops import deployments

    repo = event.repository
    if repo is None or event.ref != f"refs/heads/{repo.default_branch or 'main'}":
        return
    changed = {
        m["model"]
        for commit in event.commits
        for path in (*commit.added, *commit.modified)
        if (m := _STAGES.match(path))
    }
    sender = (event.sender.login if event.sender else "").lower()
    if sender == ctx.settings.bot_login.lower():
        # The bot's own registry commit: its projection recorded the deployment already
        # (and said so in the reply), unless it failed here.
        changed = {m for m in changed if deployments.unsynced(repo.full_name, m)}
    if not changed:
        return
    recorded = deployments.sync(repo_context(ctx, event), sorted(changed))
    ctx.log.info(
        "deployments synced",
        extra={"deployments": [(r.model, r.environment, r.version, r.state) for r in recorded]},
    )


@router.register("deployment_protection_rule", action="requested")
def on_protection_rule(event: DeploymentProtectionRuleEvent, ctx: JobContext) -> None:
    from bot.chatops import protection_rule
    from bot.errors import MlbotError

    if event.repository is None:
        return
    try:
        path = protection_rule.callback_path(
            event.deployment_callback_url, event.repository.full_name, ctx.settings.github_url
        )
    except ValueError as exc:
        ctx.log.warning("deployment protection rule: bad callback", extra={"why": str(exc)})
        return
    rc = repo_context(ctx, event)
    deployment = event.deployment.model_dump() if event.deployment else None
    try:
        decision = protection_rule.judge(
            rc,
            event.environment,
            sha=event.sha,
            ref=event.ref,
            deployment=deployment,
            pull_numbers=[int(p["number"]) for p in event.pull_requests if "number" in p],
        )
    except MlbotError as exc:  # an invalid mlbot.yml or policy on the default branch
        decision = protection_rule.Decision("rejected", f"Rejected by mlbot: {exc}"[:1000])
    except Exception as exc:
        if ctx.attempt < ctx.settings.max_attempts:
            raise  # retried; the deploy job waits
        decision = protection_rule.Decision(
            "rejected", f"Rejected: mlbot could not judge this deployment ({type(exc).__name__})."
        )
    protection_rule.answer(rc, path, event.environment, decision)
    ctx.log.info(
        "deployment protection rule answered",
        extra={"environment": event.environment, "state": decision.state},
    )
