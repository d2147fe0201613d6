"""The gates a command passes before the registry's own, each a named check with a fix.

Every check returns a `Check` (name, pass/fail, a reason a person reads, how
to fix it); the commands collect them all and report every failure at once.
The registry's gates (stage order, approvals, required checks, metrics,
signature, scan) come from `bot.policy.gates`; this module gathers their
evidence from GitHub: who asked, with which permission, on which PR, who
approved and what CI said, all read from the default branch's rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.approvals import rules
from bot.chatops import tamper_issue
from bot.chatops.run_evidence import (
    EVALUATION_ARTIFACT,
    WORKFLOWS_DIR,
    Provenance,
    RunInfo,
    artifact_ids,
    provenance,
    run_evidence,
    run_info,
    workflow_path,
)
from bot.errors import UsageError
from bot.github.pulls import from_fork, head_repository
from bot.policy.evidence import Approvals
from bot.policy.verdict import Check
from bot.rendering import code

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.policy.schema import StagePolicy

RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


def permission(login: str, role: str, needed: str = "write") -> Check:
    if RANK.get(role, 0) >= RANK[needed]:
        return Check("permission", "pass", f"{login} has {role} access.")
    return Check(
        "permission",
        "fail",
        f"{login} has {role} access; this command needs {needed} or higher.",
        f"Ask a repository admin to grant {login} the {needed} role.",
    )


def owner_requester(login: str, owners: list[str]) -> Check:
    return Check(
        "requester",
        "fail",
        f"the rollback policy lets only code owners ask, and {login} is not one.",
        f"Ask {', '.join(owners) or 'a code owner'} to run `/rollback`.",
    )


def pull_request(pull: dict[str, Any], full_name: str, default_branch: str) -> list[Check]:
    """A PR a command may act on: open, from this repository, against the default branch."""
    found = []
    if pull.get("state") != "open":
        found.append(
            Check(
                "pull-request",
                "fail",
                f"#{pull.get('number')} is {'merged' if pull.get('merged') else 'closed'}.",
                "Reopen it, or run the command on an open pull request or an issue.",
            )
        )
    head_repo = head_repository(pull)
    if from_fork(pull, full_name):
        found.append(
            Check(
                "pull-request",
                "fail",
                f"the head branch lives in a fork ({head_repo or 'a deleted fork'}); "
                "the bot never acts on code from a fork.",
                f"Push the branch to {full_name} and open the pull request from there.",
            )
        )
    base = (pull.get("base") or {}).get("ref")
    if base != default_branch:
        found.append(
            Check(
                "pull-request",
                "fail",
                f"it targets {base}, not the default branch {default_branch}.",
                f"Change the pull request's base to {default_branch}.",
            )
        )
    if not found:
        found.append(Check("pull-request", "pass", f"open, against {default_branch}."))
    return found


def not_tampered(rc: RepoContext, model: str) -> Check:
    """Promotions wait while the model's registry has a change mlbot did not make."""
    found = tamper_issue.open_issues(rc.gh, rc.full_name, model)
    if not found:
        return Check("tamper", "pass", f"no open report of hand edits to registry/{model}/.")
    numbers = ", ".join(f"#{i['number']}" for i in found)
    return Check(
        "tamper",
        "fail",
        f"{numbers} reports changes to registry/{model}/ that mlbot did not make; "
        "promotions are frozen until a code owner has checked them.",
        f"A code owner checks the change and closes {numbers}.",
    )


def codeowners(owners: list[str], where: str | None, path: str, branch: str) -> Check:
    if where is None:
        return Check(
            "codeowners",
            "fail",
            f"there is no CODEOWNERS file on {branch}, so nobody may approve changes to {path}.",
            f"Add .github/CODEOWNERS on {branch} naming the owners of {path}.",
        )
    if not owners:
        return Check(
            "codeowners",
            "fail",
            f"{where} on {branch} names no owner (or only empty teams) for {path}.",
            f"Add a rule for {path} with at least one person or team to {where}.",
        )
    return Check("codeowners", "pass", f"owners of {path}: {', '.join(owners)} ({where}).")


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def pr_approvals(
    reviews: list[dict[str, Any]],
    *,
    owners: list[str],
    head_sha: str,
    author: str,
    requester: str | None,
    rule: StagePolicy,
) -> Approvals:
    """The reviews that count, per GitHub's semantics and the stage's policy."""
    return rules.from_reviews(
        [
            rules.Review(
                (r.get("user") or {}).get("login") or "",
                str(r.get("state") or "").upper(),
                r.get("commit_id"),
                _time(r.get("submitted_at")),
            )
            for r in reviews
            if (r.get("user") or {}).get("login")
        ],
        owners=owners,
        head_sha=head_sha,
        author=author,
        requester=requester,
        allow_self_approval=rule.allow_self_approval,
        accept_stale=rule.accept_stale_approvals,
    )


def issue_approvals(
    intents: list[rules.ApproveComment],
    *,
    owners: list[str],
    since: dt.datetime,
    requester: str,
    allow_self_approval: bool,
    requester_approves: bool = False,
) -> Approvals:
    """Approvals on an issue: owners' `/approve` intents after the request.

    `requester_approves`: the request itself counts as its author's approval (a rollback
    asked for by a code owner, when its policy lets the requester approve).
    """
    intents = list(intents)
    if requester_approves:
        intents.insert(0, rules.ApproveComment(requester, since))
    return rules.from_comments(
        intents,
        owners=owners,
        since=since,
        requester=requester,
        allow_self_approval=allow_self_approval,
    )


def is_bot(login: str, type_: str | None, bot_login: str) -> bool:
    return type_ == "Bot" or login.lower().endswith("[bot]") or login.lower() == bot_login.lower()


# -- the PR's evaluation ------------------------------------------------------------------------
@dataclass(frozen=True)
class Evaluation:
    model: str
    document: dict[str, Any]
    run_id: int
    run_url: str | None
    trust: Provenance | None = None

    @property
    def version(self) -> str | None:
        value = _mapping(self.document.get("candidate")).get("version")
        return str(value) if isinstance(value, str | int | float) and value else None

    @property
    def metrics(self) -> dict[str, Any] | None:
        value = _mapping(self.document.get("candidate")).get("metrics")
        return dict(value) if isinstance(value, dict) else None

    @property
    def production(self) -> tuple[str | None, dict[str, Any] | None]:
        prod = _mapping(self.document.get("production"))
        metrics = prod.get("metrics")
        version = prod.get("version")
        return (
            str(version) if isinstance(version, str) else None,
            dict(metrics) if isinstance(metrics, dict) else None,
        )

    @property
    def holdout_digest(self) -> str | None:
        value = _mapping(self.document.get("holdout")).get("digest")
        return value if isinstance(value, str) else None


def holdout_path(evaluation: Evaluation) -> str | None:
    value = _mapping(evaluation.document.get("holdout")).get("path")
    return value if isinstance(value, str) and value else None


def _mapping(value: object) -> dict[str, Any]:
    # evaluation.json comes from a workflow run: any field may hold anything.
    return value if isinstance(value, dict) else {}


RUNS_LOOKED_AT = 10
# A model's newest runs whose artifacts are listed side by side (older ones only if none
# of these uploaded its evaluation): a head usually has one run per workflow.
RUNS_AT_ONCE = 3


def pr_evaluations(rc: RepoContext, head_sha: str, models: list[str]) -> dict[str, Evaluation]:
    """The newest successful run's evaluation.json per model for the PR's head commit.

    Every configured model is looked for at once (one listing of runs and artifacts),
    so asking again for another model costs nothing. Only runs of the model's own
    workflow are read; whether that workflow is the default branch's is in `trust`.
    """
    everything = rc.once(f"evaluations:{head_sha}", lambda: _evaluations(rc, head_sha))
    return {m: everything[m] for m in models if m in everything}


def successful_runs(rc: RepoContext, head_sha: str) -> list[RunInfo]:
    """The head's newest successful workflow runs, newest first: one listing per job."""

    def load() -> list[RunInfo]:
        data = rc.call(
            "GET",
            rc.repo_path("/actions/runs"),
            {"head_sha": head_sha, "status": "completed", "per_page": RUNS_LOOKED_AT},
        )
        runs = [run_info(raw) for raw in data.get("workflow_runs", [])[:RUNS_LOOKED_AT]]
        return [r for r in runs if r.head_sha == head_sha and r.conclusion == "success"]

    return rc.once(f"runs:{head_sha}", load)


def run_artifacts(rc: RepoContext, run_id: int) -> dict[str, int]:
    """A run's artifacts, name -> id: one listing per job."""
    return rc.once(f"artifacts:{run_id}", lambda: artifact_ids(rc.gh, rc.full_name, run_id))


def model_runs(rc: RepoContext, runs: list[RunInfo], model: str) -> list[RunInfo]:
    """The runs of the model's own workflow, newest first: no other run is its evidence."""
    path = _path(rc, model)
    return [r for r in runs if path is not None and workflow_path(r) == path]


def evaluated_models(rc: RepoContext, head_sha: str) -> list[str]:
    """Models whose evaluation artifact one of their newest runs lists (not yet read)."""
    runs = successful_runs(rc, head_sha)
    return [
        m
        for m in sorted(rc.config.models)
        if any(
            EVALUATION_ARTIFACT.format(model=m) in run_artifacts(rc, r.id)
            for r in model_runs(rc, runs, m)[:RUNS_AT_ONCE]
        )
    ]


def _evaluations(rc: RepoContext, head_sha: str) -> dict[str, Evaluation]:
    # The run list needs only the head; the config (which run is whose) comes beside it.
    runs, config = rc.gather(lambda: successful_runs(rc, head_sha), lambda: rc.config)
    models = sorted(config.models)
    queue = {m: model_runs(rc, runs, m) for m in models}
    found: dict[str, Evaluation] = {}
    while queue := {m: q for m, q in queue.items() if q}:
        batch = {r.id: r for q in queue.values() for r in q[:RUNS_AT_ONCE]}
        # The artifact listings and both trees the provenance compares, side by side.
        listed = rc.gather(
            *[lambda i=i: run_artifacts(rc, i) for i in batch],
            *[
                lambda m=m, q=q: _provenance(rc, q[0], m, config.models[m].workflow)
                for m, q in queue.items()
            ],
        )[: len(batch)]
        artifacts = dict(zip(batch, listed, strict=True))
        chosen: dict[int, list[str]] = {}
        for m, q in queue.items():
            name = EVALUATION_ARTIFACT.format(model=m)
            at = next((k for k, r in enumerate(q[:RUNS_AT_ONCE]) if name in artifacts[r.id]), None)
            if at is None:
                queue[m] = q[RUNS_AT_ONCE:]
            else:
                chosen.setdefault(q[at].id, []).append(m)
                queue[m] = q[at + 1 :]  # older runs, should this one's evaluation be unreadable
        read = rc.gather(
            *[
                lambda i=i, ms=ms, a=artifacts[i]: run_evidence(
                    rc.gh, rc.full_name, i, ms, listed=a, gather=rc.gather
                )
                for i, ms in chosen.items()
            ]
        )
        for run_id, evidence in zip(chosen, read, strict=True):
            run = batch[run_id]
            for model, got in evidence.items():
                if got.evaluation is not None:
                    trust = _provenance(rc, run, model, config.models[model].workflow)
                    found[model] = Evaluation(model, got.evaluation, run.id, run.html_url, trust)
                    queue.pop(model, None)
    for model in models:
        if model not in found and not config.models[model].workflow:
            found[model] = Evaluation(model, {}, 0, None, _provenance(rc, None, model, None))
    return found


def _path(rc: RepoContext, model: str) -> str | None:
    workflow = rc.config.models[model].workflow
    return f"{WORKFLOWS_DIR}/{workflow.removeprefix(WORKFLOWS_DIR + '/')}" if workflow else None


def _provenance(rc: RepoContext, run: RunInfo | None, model: str, workflow: str | None):
    path = _path(rc, model)
    if run is None or path is None or workflow_path(run) != path:
        return provenance(
            run or RunInfo(0, "", None, None, None, None, None),
            model,
            workflow,
            at_head=None,
            on_default=None,
            default_branch=rc.default_branch,
        )
    # Git blob ids: equal ids are equal contents, and each side is one cached tree listing.
    at_head = rc.store.blob_ids(run.head_sha, [path])[path]
    on_default = rc.store.blob_ids(rc.head, [path])[path] if rc.head else None
    return provenance(
        run,
        model,
        workflow,
        at_head=at_head,
        on_default=on_default,
        default_branch=rc.default_branch,
        trust_pr_workflows=rc.policy(model).evidence.trust_pr_workflows,
    )


def evaluation_check(evaluation: Evaluation | None, version: str, head_sha: str) -> Check:
    if evaluation is not None and evaluation.trust is not None and not evaluation.trust.trusted:
        return Check("evaluation", "fail", evaluation.trust.reason, evaluation.trust.fix)
    if evaluation is None:
        return Check(
            "evaluation",
            "fail",
            f"no successful run of the model workflow uploaded evaluation.json for the head "
            f"commit {head_sha[:7]}.",
            "Wait for the model workflow to finish (or re-run it), then try again.",
        )
    if evaluation.version != version:
        return Check(
            "evaluation",
            "fail",
            f"this PR's evaluation is of {evaluation.version or 'an unregistered candidate'}, "
            f"not {version}.",
            "Promote the version this PR evaluated, or run the command on an issue.",
        )
    return Check("evaluation", "pass", f"run {evaluation.run_id} evaluated {version}.")


# -- arguments against allowlists ---------------------------------------------------------------
def resolve_model(rc: RepoContext, named: str | None, usage: str, head_sha: str | None) -> str:
    """A configured model: the one named, the only one, or the only one the PR evaluated."""
    models = sorted(rc.config.models)
    listed = ", ".join(models) or "none"
    if named is not None:
        if named not in rc.config.models:
            raise UsageError(
                f"{code(named)} is not a model configured in .github/mlbot.yml "
                f"on {rc.default_branch}.",
                f"Configured models: {listed}.",
            )
        return named
    if len(models) == 1:
        return models[0]
    if not models:
        raise UsageError(
            f".github/mlbot.yml on {rc.default_branch} configures no model.",
            "Add the model under `models:` first.",
        )
    if head_sha is not None:
        evaluated = sorted(m for m, e in pr_evaluations(rc, head_sha, models).items() if e.run_id)
        if len(evaluated) == 1:
            return evaluated[0]
    raise UsageError(
        "this repository has several models and the command names none.",
        f"Name one: `{usage}` with one of {listed}.",
    )


def known_version(state: Any, version: str) -> None:
    if version not in state.versions:
        recent = ", ".join(state.versions[-5:]) or "none"
        raise UsageError(
            f"{state.model} has no registered version {version}.",
            f"Registered versions (latest): {recent}.",
        )


def known_stage(policy: Any, stage: str) -> None:
    if stage not in policy.stages:
        raise UsageError(
            f"{code(stage)} is not a stage of this model's policy.",
            f"Stages: {', '.join(policy.stages)}.",
        )
