"""`/retrain [model] [because reason...]`: open (or point at) the model's retraining PR.

On an issue (usually the drift issue). The PR changes
`registry/<model>/retrain.yaml` on the bot's own branch, so the model's
workflow runs; merging it closes the issue. One open retraining PR per model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chatops import checks
from bot.commands.grammar import take_reason
from bot.commands.interface import Command
from bot.commands.replies import Reply
from bot.errors import UsageError
from bot.registry.names import MODEL_NAME
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request

NAME = "retrain"
USAGE = "/retrain [model] [because reason...]"
SUMMARY = "Open a retraining pull request for a model (one open at a time)."
WHO = "People with write access, on an issue (the drift issue, usually)."
EXAMPLES = (
    ("/retrain", "the one model, or the model of this drift issue"),
    ("/retrain cancer because new scanner since March", "with a reason"),
)
MAX_REASON = 300


@dataclass(frozen=True)
class Args:
    model: str | None = None
    reason: str = ""


def parse(words: tuple[str, ...]) -> Args:
    before, reason = take_reason(words)
    if len(before) > 1 or (before and not MODEL_NAME.match(before[0])):
        raise UsageError(
            f"unexpected words {code(' '.join(before))}.",
            f"Usage: `{USAGE}` (a reason goes after `because`).",
        )
    return Args(before[0] if before else None, reason[:MAX_REASON])


def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply:
    if req.is_pull:
        raise UsageError(
            "`/retrain` opens a pull request of its own and closes an issue when merged.",
            "Run it on the model's drift issue (or open an issue for the retraining).",
        )
    found = [checks.permission(req.requester, rc.permission(req.requester))]
    model = args.model or _model_of_issue(rc, req)
    model = checks.resolve_model(rc, model, USAGE, None)
    if any(c.status == "fail" for c in found):
        return Reply(
            "refused", "refused", {"model": model, "action": "retraining", "checks": found}
        )
    from bot.chatops.retrain import open_retrain_pr

    pr = open_retrain_pr(
        rc.gh,
        rc.full_name,
        model,
        req.number,
        requested_by=req.requester,
        reason=args.reason or f"/retrain by {req.requester}",
        default_branch=req.default_branch,
        announce=False,
    )
    return Reply(
        "done",
        "retrain",
        {"model": model, "number": pr.number, "url": pr.url, "created": pr.created},
    )


def _model_of_issue(rc: RepoContext, req: Request) -> str | None:
    """A drift issue names its model in a `model:<name>` label."""
    issue = rc.call("GET", rc.repo_path(f"/issues/{req.number}"))
    for label in issue.get("labels", []):
        name = label.get("name") if isinstance(label, dict) else str(label)
        if name and name.startswith("model:") and MODEL_NAME.match(name[6:]):
            return name[6:]
    return None


COMMAND = Command(
    name=NAME,
    usage=USAGE,
    summary=SUMMARY,
    who=WHO,
    examples=EXAMPLES,
    parse=parse,
    handle=handle,
)
