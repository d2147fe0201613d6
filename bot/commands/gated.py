"""The one gated-write path of `/promote` and `/rollback`: judge, then wait, refuse or write.

    preamble  -> permission, the PR (open, same repository, default branch),
                 the model, its policy, and whether this very command was
                 carried out already (a registry commit's `Command:` trailer)
    judge     -> the command's own checks, composed into one `Judgement`
    finish    -> every check passed: write (the registry re-runs the gates on
                 the state it writes); only approvals missing: pending (the
                 marker keeps the head, the expiry and the digest of the exact
                 command line); anything else: refused, every failure at once
    reply     -> exactly one, built here, so both commands say the same things
                 the same way

A check is a named `Check` (`bot.policy.verdict`); a new gate (a freeze, say)
is one more check in the command's judgement or in `bot.policy.gates`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.chatops import checks
from bot.commands import once
from bot.commands.replies import Reply
from bot.errors import Conflict, MlbotError
from bot.policy.verdict import Check
from bot.registry import schema
from bot.registry.service import GateRefused, Superseded

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request
    from bot.policy.evidence import Approvals
    from bot.policy.schema import Policy
    from bot.registry.service import Outcome
    from bot.registry.state import ModelState


def read_state(rc: RepoContext, model: str) -> ModelState:
    """The model's registry state, its log and stages.yaml read side by side (the state
    alone reads them one after another): the first reads of a command's prefetch."""
    rc.gather(lambda: rc.registry_log(model), lambda: rc.read([schema.stages_path(model)]))
    return rc.state(model)


@dataclass(frozen=True)
class Preamble:
    """What every registry-changing command checks first, before its own gates."""

    found: list[Check]
    pull: dict[str, Any] | None
    head_sha: str | None
    model: str
    policy: Policy


def preamble(rc: RepoContext, req: Request, named_model: str | None, usage: str) -> Preamble:
    found = [checks.permission(req.requester, rc.permission(req.requester))]
    pull = head_sha = None
    if req.is_pull:
        pull = rc.pull(req.number)
        head_sha = str(pull["head"]["sha"])
        found += checks.pull_request(pull, rc.full_name, req.default_branch)
    model = checks.resolve_model(rc, named_model, usage, head_sha)
    return Preamble(found, pull, head_sha, model, rc.policy(model))


def carried_out(rc: RepoContext, req: Request, model: str, action: str) -> Reply | None:
    """The answer to a command an earlier attempt already wrote (and did not reply to)."""
    done = once.commit_outcome(rc, model, req.identity)
    if done is None:
        return None
    commit, tags = done
    return Reply(
        "done", "again", {"model": model, "action": action, "commit": commit, "tags": tags}
    )


@dataclass
class Judgement:
    """A gated command, judged: what it would do, every check, and how to write it."""

    action: str  # "promotion" or "rollback", as replies say it
    done_action: str  # "promoted" or "rolled back"
    target: dict[str, Any]  # model, version, stage (and live_before for a rollback)
    checks: list[Check]
    approvals: Approvals
    owners: list[str]
    is_pull: bool
    head_sha: str | None
    expiry_hours: float
    write: Callable[[], Outcome]
    evidence: list[str] = field(default_factory=list)
    # More for the pending marker to keep (a rollback: the version it removes).
    marker: dict[str, str] = field(default_factory=dict)
    # The done reply's extra fields, from the written outcome (the stages now live, say).
    after: Callable[[Outcome], dict[str, Any]] = lambda _outcome: {}


def pending_marker(
    req: Request, head_sha: str | None, hours: float, now: float, more: dict[str, str]
) -> str:
    expires = int(now + hours * 3600)
    extra = "".join(f" {k}={v}" for k, v in more.items())
    return f"head={head_sha or '-'} expires={expires} digest={req.digest}{extra}"


def finish(
    rc: RepoContext, req: Request, j: Judgement, *, completing: bool, now: float
) -> Reply | None:
    """Wait, refuse or write, and say so.

    Still waiting when completing: the pending reply as it would read now, which the
    approval path does not post (the first one stands) but reports from (who approved,
    which approvals do not count and why).
    """
    failed = [c for c in j.checks if c.status == "fail"]
    if failed:
        waiting = all(c.name == "approvals" for c in failed) and not j.approvals.blocked_by
        if not waiting:
            return Reply("refused", "refused", {**j.target, "action": j.action, "checks": j.checks})
        return Reply(
            "pending",
            "pending",
            {
                **j.target,
                "checks": j.checks,
                "owners": j.owners,
                "approvers": j.approvals.approvers,
                "discarded": j.approvals.discarded,
                "is_pull": j.is_pull,
                "expiry_hours": j.expiry_hours,
            },
            marker_extra=pending_marker(req, j.head_sha, j.expiry_hours, now, j.marker),
        )
    try:
        outcome = j.write()
    except GateRefused as exc:
        every = [*[c for c in j.checks if c.name not in _gate_names(exc)], *exc.verdict.checks]
        return Reply("refused", "refused", {**j.target, "action": j.action, "checks": every})
    except Superseded as exc:
        return superseded(rc, j.target, exc)
    except (Conflict, MlbotError) as exc:
        rc.wrote()
        return Reply("refused", "conflict", {**j.target, "action": j.action, "why": str(exc)})
    rc.wrote(outcome.commit)
    return Reply(
        "done",
        "done",
        {
            **j.target,
            "version": outcome.change.version,
            "action": j.done_action,
            "previous": outcome.change.previous,
            "commit": outcome.commit,
            "tags": outcome.tags,
            "approvers": j.approvals.approvers,
            "evidence": j.evidence,
            "checks": list(outcome.verdict.checks) if outcome.verdict else [],
            "attempts": outcome.attempts,
            # What the registry's post-write projections did (the GitHub Deployment).
            "notes": list(outcome.notes),
            "live": {},
            **j.after(outcome),
        },
    )


def _gate_names(exc: GateRefused) -> set[str]:
    return {c.name for c in exc.verdict.checks}


def superseded(rc: RepoContext, target: dict[str, Any], exc: Superseded) -> Reply:
    """Someone else changed the stage first: nothing written, and who did what."""
    rc.wrote()
    commit = None
    for info in rc.registry_log(target["model"]):
        if f" {exc.stage}" in info.message.split("\n", 1)[0]:
            commit = info.sha
            break
    return Reply(
        "refused",
        "superseded",
        {
            **target,
            "action": "rollback",
            "removes": exc.removes,
            "live": exc.live,
            "by": exc.by,
            "since": exc.since.isoformat() if exc.since else None,
            "commit": commit,
        },
    )
