"""`/status [model]`: what is live, what ran before, and (in a PR) the metric comment again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops import checks
from bot.commands.interface import Command
from bot.commands.replies import Reply
from bot.errors import UsageError
from bot.registry.names import MODEL_NAME
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request

log = logging.getLogger(__name__)

NAME = "status"
USAGE = "/status [model]"
SUMMARY = "Show the registry state of a model; in a PR, refresh its metric comment too."
WHO = "Anyone who can comment."
EXAMPLES = (("/status", "every model (or the PR's)"), ("/status cancer", "one model"))
HISTORY_SHOWN = 5


@dataclass(frozen=True)
class Args:
    model: str | None = None


def parse(words: tuple[str, ...]) -> Args:
    if len(words) > 1 or (words and not MODEL_NAME.match(words[0])):
        raise UsageError(f"unexpected words {code(' '.join(words))}.", f"Usage: `{USAGE}`.")
    return Args(words[0] if words else None)


def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply:
    if args.model is not None:
        models = [checks.resolve_model(rc, args.model, USAGE, None)]
    else:
        models = sorted(rc.config.models)
    refreshed: list[dict[str, Any]] = []
    if req.is_pull:
        refreshed = _refresh_metric_comment(rc, req, args.model)
    return Reply(
        "info",
        "status",
        {
            "models": [_model_status(rc, m) for m in models],
            "refreshed": refreshed,
            "now": req.created_at,
        },
    )


def _model_status(rc: RepoContext, model: str) -> dict[str, Any]:
    state = rc.state(model)
    stages = []
    policy = rc.policy(model)
    current = state.stages.stages if state.stages else {}
    for stage in policy.stages:
        entry = current.get(stage)
        stages.append(
            {
                "stage": stage,
                "version": entry.version if entry else None,
                "since": entry.since if entry else None,
                "by": entry.by if entry else None,
                "previous": [p.version for p in entry.previous[:HISTORY_SHOWN]] if entry else [],
            }
        )
    return {"model": model, "stages": stages, "versions": state.versions[-HISTORY_SHOWN:]}


def _refresh_metric_comment(
    rc: RepoContext, req: Request, model: str | None
) -> list[dict[str, Any]]:
    """Part of /status in a PR: the sticky metric comment, posted or updated again.

    One entry per model looked at: its name, what happened, a link to the comment, and
    why nothing was posted when nothing was.
    """
    from bot.chatops.metric_comment import update_for_pr

    outcomes = update_for_pr(
        rc.gh,
        rc.full_name,
        req.number,
        bot_login=rc.bot_login,
        model=model,
        default_branch=req.default_branch,
        pull=rc.pull(req.number),
    )
    return [
        {
            "model": o.model,
            "action": o.action,
            "url": o.urls[0] if o.urls else None,
            "reason": o.reason,
        }
        for o in outcomes
    ]


COMMAND = Command(
    name=NAME,
    usage=USAGE,
    summary=SUMMARY,
    who=WHO,
    examples=EXAMPLES,
    parse=parse,
    handle=handle,
)
