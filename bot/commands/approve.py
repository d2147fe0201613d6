"""`/approve [cancel]`: a code owner's approval where there are no reviews (issues).

The approval is not stored anywhere: it is this comment. Every pending
`/promote` or `/rollback` on the issue is re-checked right away (and again
on each later `/approve`), rebuilding approvals from the issue's comments.
On a pull request, approvals are reviews: this command says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands import pending
from bot.commands.interface import Command
from bot.commands.replies import Reply
from bot.errors import UsageError
from bot.registry import schema
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request

NAME = "approve"
USAGE = "/approve [cancel]"


@dataclass(frozen=True)
class Args:
    cancel: bool = False


def parse(words: tuple[str, ...]) -> Args:
    if not words:
        return Args()
    if len(words) == 1 and words[0].lower() == "cancel":
        return Args(cancel=True)
    raise UsageError(f"unexpected words {code(' '.join(words))}.", f"Usage: `{USAGE}`.")


def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply:
    if req.is_pull:
        raise UsageError(
            "on a pull request, code owners approve with a review, not a comment.",
            "Open *Files changed*, then *Review changes* → *Approve*, on the current head.",
        )
    # GitHub failing while completing is the job's to retry, as on the comment path.
    results = pending.complete_all(
        rc,
        req.number,
        req.default_branch,
        is_pull=False,
        delivery_id=req.delivery_id,
        last_attempt=req.last_attempt,
    )
    # Said first when it is so: a non-owner's /approve counts for nothing, and why.
    owners: dict[str, str] = {}
    if results:
        for model in sorted(rc.config.models):
            for login in rc.owners_of(schema.stages_path(model))[0]:
                owners.setdefault(login.lower(), login)
    return Reply(
        "info",
        "approve",
        {
            "cancel": args.cancel,
            "results": results,
            "approver": req.requester,
            "owners": sorted(owners.values(), key=str.lower),
            "counts": req.requester.lower() in owners,
        },
    )


COMMAND = Command(
    name=NAME,
    usage=USAGE,
    summary="Approve (or withdraw your approval of) the pending commands of an issue.",
    who="Code owners of `registry/<model>/`; on a pull request, approve with a review instead.",
    examples=(("/approve", "approve what is pending here"), ("/approve cancel", "withdraw it")),
    parse=parse,
    handle=handle,
)
