"""`/promote [model] [version] [to stage]`: move a registered version into a stage.

Checks, all reported at once: the commenter's permission; on a PR, that it is
open, from this repository and against the default branch, and that its
evaluation is of the version; CODEOWNERS approvals for
`registry/<model>/stages.yaml` (from the default branch); then the policy's
gates (stage order, required checks on the PR head, metrics from the PR's
evaluation against production, signature, scan). A promotion that lacks only
approvals stays pending and completes when they arrive.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.chatops import checks
from bot.commands import gated, once
from bot.commands.approve_comments import approve_intents
from bot.commands.interface import Command
from bot.commands.replies import Reply
from bot.errors import InputError, UsageError
from bot.incidents import freeze
from bot.policy import gates
from bot.policy.collect import promotion_evidence
from bot.registry import audit, plan, schema, semver
from bot.registry.names import MODEL_NAME, STAGE_NAME
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request
    from bot.policy.schema import Policy
    from bot.policy.verdict import Check
    from bot.registry.state import ModelState

NAME = "promote"
USAGE = "/promote [model] [version] [to stage]"
_VERSION = re.compile(r"^v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Args:
    model: str | None = None
    version: str | None = None
    stage: str | None = None


def parse(words: tuple[str, ...]) -> Args:
    model = version = stage = None
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if word.lower() == "to":
            if not rest:
                raise UsageError("`to` must be followed by a stage.", f"Usage: `{USAGE}`.")
            stage = rest.pop(0)
            if not STAGE_NAME.match(stage):
                raise UsageError(f"{code(stage)} is not a stage name.", f"Usage: `{USAGE}`.")
        elif _VERSION.match(word) and version is None and stage is None:
            semver_ok(word)
            version = word
        elif MODEL_NAME.match(word) and model is None and version is None and stage is None:
            model = word
        else:
            raise UsageError(f"unexpected word {code(word)}.", f"Usage: `{USAGE}`.")
    return Args(model, version, stage)


def semver_ok(word: str) -> None:
    try:
        semver.parse(word)
    except InputError as exc:
        raise UsageError(str(exc), f"Usage: `{USAGE}`.") from None


def default_stage(policy: Policy, state: ModelState, version: str) -> str | None:
    """The first stage the version has not been in yet, in the policy's order."""
    return state.next_stage(policy.stages, version)


PREFETCHED_MODELS = 3


def first_reads(rc: RepoContext, req: Request) -> list[Callable[[], object]]:
    """What every `/promote` reads first: beside the "already answered?" read (`once`)."""
    reads: list[Callable[[], object]] = [lambda: rc.permission(req.requester), lambda: rc.head]
    if req.is_pull:
        reads += [lambda: rc.pull(req.number), lambda: rc.reviews(req.number)]
    with contextlib.suppress(UsageError):
        if (named := parse(req.invocation.args).model) is not None:
            reads.append(lambda: tampered(rc, named))
    return reads


once.FIRST_READS[NAME] = first_reads


def tampered(rc: RepoContext, model: str) -> Check:
    """The tamper check, read once per job (the prefetch may read it before it is judged)."""
    return rc.once(f"gate:tamper:{model}", lambda: checks.not_tampered(rc, model))


def prefetch(rc: RepoContext, req: Request, model: str | None) -> None:
    """Read everything the checks need at once, in parallel chains, before judging anything.

    Each read waits a round trip to GitHub; done one after another they would add up to
    seconds. The chains: the default branch (head -> tree and config -> each model's
    stages.yaml, registry commits and CODEOWNERS' teams -> its tags), and the PR
    (pull -> its runs -> their artifacts -> the evaluation), and, as soon as the model
    is likely known, its open tamper and incident issues and the version records the
    evidence reads. Reads that fail here fail again, with their reply, where they are used.
    """

    def default_branch() -> None:
        config = rc.config
        named = [model] if model in config.models else sorted(config.models)
        if len(named) > PREFETCHED_MODELS:
            return
        rc.gather(
            *[lambda m=m: gated.read_state(rc, m) for m in named],
            *[lambda m=m: rc.owners_of(schema.stages_path(m)) for m in named],
            *([lambda: likely(named[0])] if len(named) == 1 else []),
        )

    def pull_request() -> None:
        head = str(rc.pull(req.number)["head"]["sha"])
        rc.gather(
            lambda: rc.check_conclusions(head),
            lambda: checks.pr_evaluations(rc, head, []),
            lambda: evaluated(head),
        )

    def evaluated(head: str) -> None:
        if model is not None or len(rc.config.models) == 1:
            return  # default_branch() knows the model
        found = checks.evaluated_models(rc, head)
        if len(found) <= PREFETCHED_MODELS:
            rc.gather(*[lambda m=m: likely(m) for m in found])

    def likely(m: str) -> None:
        rc.gather(
            lambda: tampered(rc, m),
            lambda: freeze.open_incidents(rc, m),
            lambda: records(m),
        )

    def records(m: str) -> None:
        """The records of the model's newest version and of those live (the evidence's)."""
        head = rc.head
        if head is None:
            return
        prefix = f"registry/{m}/versions/"
        names = [p[len(prefix) :].removesuffix(".yaml") for p in rc.store.list_files(head, prefix)]
        versions = sorted((v for v in names if semver.is_version(v)), key=semver.sort_key)
        path = schema.stages_path(m)
        raw = rc.read([path])[path]
        live = schema.parse_file(path, raw, schema.StagesFile).live() if raw else {}
        wanted = sorted({*versions[-1:], *live.values()})
        rc.gather(*[lambda v=v: rc.read([schema.version_path(m, v)]) for v in wanted])

    calls = [lambda: rc.permission(req.requester), default_branch]
    if req.is_pull:
        calls += [pull_request, lambda: rc.reviews(req.number)]
    # A read that fails here fails again where it is used, and is reported there.
    with contextlib.suppress(Exception):
        rc.gather(*calls)


def handle(rc: RepoContext, req: Request, args: Args, *, completing: bool = False) -> Reply | None:
    """Check everything, then write; `completing`: a pending promotion re-tried on an event.

    When completing, None means nothing to say: the command is still only waiting for
    approvals, or another event completed it first (the version is already live there).
    """
    prefetch(rc, req, args.model)
    pre = gated.preamble(rc, req, args.model, USAGE)
    if again := gated.carried_out(rc, req, pre.model, NAME):
        return again
    found, pull, head_sha, model, policy = pre.found, pre.pull, pre.head_sha, pre.model, pre.policy
    state = rc.state(model)
    evaluation = None
    version = args.version
    if version is not None:
        checks.known_version(state, version)
    if head_sha is not None:
        evaluation = checks.pr_evaluations(rc, head_sha, [model]).get(model)
        if evaluation is not None and evaluation.trust and not evaluation.trust.trusted:
            if version is None:
                raise UsageError(evaluation.trust.reason, evaluation.trust.fix)
            found.append(checks.evaluation_check(evaluation, version, head_sha))
            evaluation = None  # never evidence: not a single number of it is read
        elif version is None:
            version = evaluation.version if evaluation else None
            if version is None:
                raise UsageError(
                    f"this PR's evaluation of {model} names no registered version "
                    f"({'no evaluation.json yet' if evaluation is None else 'unregistered'}).",
                    f"Register the candidate, or name a version: `/promote {model} v1.2.3`.",
                )
            checks.known_version(state, version)
        if evaluation is not None or not any(c.name == "evaluation" for c in found):
            found.append(checks.evaluation_check(evaluation, version, head_sha))
    stage = args.stage
    if stage is not None:
        checks.known_stage(policy, stage)
    if version is None:
        stage = stage or policy.stages[-1]
        source = policy.for_stage(stage).from_stages
        version = state.live.get(source[0]) if source else None
        if version is None:
            raise UsageError(
                f"no version named, and none to take from {source[0] if source else 'a stage'}.",
                f"Name the version: `/promote {model} v1.2.3 to {stage}`.",
            )
    if stage is None:
        stage = default_stage(policy, state, version)
        if stage is None:
            raise UsageError(
                f"{model} {version} has been in every stage already.",
                f"Name the stage: `/promote {model} {version} to <stage>`.",
            )
    if state.live.get(stage) == version:
        if completing:
            return None  # another event completed it first
        raise UsageError(f"{model} {version} is already live in {stage}.", "Nothing to do.")
    plan.require_record(state, version)

    path = schema.stages_path(model)
    owners, where = rc.owners_of(path)
    rule = policy.for_stage(stage)
    if pull is not None and head_sha is not None:
        approvals = checks.pr_approvals(
            rc.reviews(req.number),
            owners=owners,
            head_sha=head_sha,
            author=(pull.get("user") or {}).get("login") or "",
            requester=req.requester,
            rule=rule,
        )
        ci: dict[str, str] = dict(rc.check_conclusions(head_sha))
        if any(c not in ci for c in rule.required_checks):
            ci.update({k: v for k, v in rc.statuses(head_sha).items() if k not in ci})
    else:
        approvals = checks.issue_approvals(
            approve_intents(rc.comments(req.number), req.bot_login),
            owners=owners,
            since=req.created_at,
            requester=req.requester,
            allow_self_approval=rule.allow_self_approval,
        )
        commit = state.record(version).lineage.commit
        ci = dict(rc.check_conclusions(commit)) if commit and rule.required_checks else {}
    metrics = evaluation.metrics if evaluation and evaluation.version == version else None
    prod_version, prod_metrics = evaluation.production if evaluation else (None, None)

    def evidence_hook(state: ModelState, version: str, stage: str, policy: Policy):
        ev = promotion_evidence(
            state, version, stage, policy, approvals=approvals, checks=ci, metrics=metrics
        )
        live = state.live.get(policy.baseline_stage)
        if prod_metrics is not None and prod_version == live and live != version:
            # Compare like with like: production scored on the PR's holdout, in the same run.
            ev = replace(ev, baseline_version=live, baseline_metrics=prod_metrics)
        if evaluation is not None and live is not None and live != version:
            path = checks.holdout_path(evaluation)
            if path is not None:
                recorded = state.record(live).lineage.data.get(path)
                holdout = {
                    "path": path,
                    "candidate": evaluation.holdout_digest,
                    "baseline": recorded,
                }
                ev = replace(ev, extra={**ev.extra, "holdout": holdout})
        return ev

    # Independent reads (open tamper reports, open incidents, the version records the
    # evidence reads), each a round trip: side by side.
    tamper, frozen, ev = rc.gather(
        lambda: tampered(rc, model),
        lambda: freeze.check(rc, model, stage),
        lambda: evidence_hook(state, version, stage, policy),
    )
    found += [checks.codeowners(owners, where, path, rc.default_branch), tamper, frozen]
    verdict = gates.evaluate_promotion(policy, ev)
    evidence = []
    if evaluation is not None:
        evidence.append(f"evaluation run {evaluation.run_url or evaluation.run_id}")
    evidence += [f"{c.name}: {c.reason}" for c in verdict.checks if c.status == "pass"]
    info = audit.Audit(
        requested_by=req.requester,
        approved_by=approvals.approvers,
        evidence=tuple(evidence),
        refs=(f"#{req.number}",),
        extra={"Command": req.identity.trailer},
    )

    def write():
        # The head this job read its state at: the write's compare-and-swap catches a move.
        return rc.registry().promote(
            model,
            version,
            stage,
            audit_info=info,
            evidence_hook=evidence_hook,
            known_head=state.head,
        )

    judgement = gated.Judgement(
        action="promotion",
        done_action="promoted",
        target={"model": model, "version": version, "stage": stage},
        checks=[*found, *verdict.checks],
        approvals=approvals,
        owners=owners,
        is_pull=req.is_pull,
        head_sha=head_sha,
        expiry_hours=rule.pending_expiry_hours,
        write=write,
        evidence=evidence,
    )
    return gated.finish(rc, req, judgement, completing=completing, now=time.time())


COMMAND = Command(
    name=NAME,
    usage=USAGE,
    summary="Promote a registered version of a model to a stage.",
    who=(
        "People with write access ask; code owners of `registry/<model>/` approve "
        "(a PR review on the current head, or `/approve` on an issue)."
    ),
    examples=(
        ("/promote", "on a PR: the version its evaluation names, to its next stage"),
        ("/promote cancer v1.4.0 to production", "everything named"),
        ("/promote cancer to production", "on an issue: the version live in the stage before"),
    ),
    parse=parse,
    handle=handle,
    gated=True,
)
