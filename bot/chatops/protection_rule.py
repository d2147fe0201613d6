"""mlbot as a custom deployment protection rule: a deploy job runs only what is live.

When an environment lists mlbot among its protection rules, GitHub holds every job
deploying to it and sends `deployment_protection_rule.requested`. The bot judges the
deployment against the default branch's registry and answers through the callback
(`POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule`), with a
comment saying why.

Approved only when, for every model whose stage deploys to that environment (or the one
model the deployment's payload names), the version being deployed is the version live
in that stage on the default branch now, or passes every promotion gate of that stage
as `/promote` judges it (approvals from the code owners' reviews of a pull request of
this repository whose head is the deployed commit). The version being deployed is, in
this order:
the deployment payload's `version`; the version of a registration tag ref
(`refs/tags/<model>@<version>`, which must point at that version's registration
commit); else what the registry *at the deployed commit* says the stage runs.
Everything else is rejected, with what is live, what fails and how to change it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops.deployments import environment
from bot.github.pulls import from_fork

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext

COMMENT_LIMIT = 1000
_TAG_REF = re.compile(
    r"^refs/tags/(?P<model>[a-z0-9-]+)@(?P<version>v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$"
)


@dataclass(frozen=True)
class Decision:
    state: str  # approved, rejected
    comment: str


def callback_path(url: str, full_name: str, api_root: str) -> str:
    """The callback as a path of this repository's API, or ValueError.

    The URL comes from the payload: the bot posts with its installation token only to
    the one endpoint GitHub documents, for the repository of the delivery, on the API
    it is configured for; never to a URL as given.
    """
    root = api_root.rstrip("/")
    prefix = f"{root}/repos/{full_name}/actions/runs/"
    if not url.lower().startswith(prefix.lower()):
        raise ValueError(f"the callback {url!r} is not an Actions run of {full_name}")
    rest = url[len(prefix) :]
    run_id, _, tail = rest.partition("/")
    if not run_id.isdigit() or tail != "deployment_protection_rule":
        raise ValueError(f"the callback {url!r} is not a deployment_protection_rule endpoint")
    return f"/repos/{full_name}/actions/runs/{int(run_id)}/deployment_protection_rule"


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= COMMENT_LIMIT else flat[: COMMENT_LIMIT - 1] + "…"


def judge(
    rc: RepoContext,
    env: str,
    *,
    sha: str | None,
    ref: str | None,
    deployment: Mapping[str, Any] | None,
    pull_numbers: Sequence[int] = (),
) -> Decision:
    """Approve or reject a deployment to `env` of commit `sha`, with the reason."""
    config = rc.config
    targets: list[tuple[str, str]] = []
    for model in sorted(config.models):
        for stage in rc.policy(model).stages:
            if environment(config, model, stage) == env:
                targets.append((model, stage))
    payload = (deployment or {}).get("payload")
    payload = payload if isinstance(payload, dict) else {}
    named = payload.get("model")
    if named is not None:
        targets = [t for t in targets if t[0] == named]
        if not targets:
            return Decision(
                "rejected",
                _short(
                    f"{named!r} has no stage deploying to environment {env} in "
                    f".github/mlbot.yml on {rc.default_branch}."
                ),
            )
    if not targets:
        return Decision(
            "rejected",
            _short(
                f"no model's stage deploys to environment {env} per .github/mlbot.yml on "
                f"{rc.default_branch}, so mlbot cannot tell what may run there. Name it under "
                "a model's `environments:`, or remove mlbot from this environment's rules."
            ),
        )
    tag = _TAG_REF.match(ref or "")
    approved, refused = [], []
    for model, stage in targets:
        state = rc.state(model)
        live = state.live.get(stage)
        deployed, why = _deployed(rc, model, stage, sha, tag, payload)
        if deployed is None:
            refused.append(f"{model}: {why}")
        elif deployed != live:
            running = f"{live} is" if live else "nothing is"
            failed = _promotion_gates(rc, model, stage, deployed, sha, pull_numbers)
            if failed is None:
                approved.append(
                    f"{model} {deployed} is not live in {stage} ({running}) and passes every "
                    f"promotion gate of {stage}, code-owner approvals included"
                )
            else:
                refused.append(
                    f"{model}: {deployed} is not live in {stage} ({running}), and as a "
                    f"promotion it fails {failed}; promote it with "
                    f"`/promote {model} {deployed} to {stage}` first"
                )
        else:
            approved.append(f"{model} {live} is live in {stage}")
    if refused:
        return Decision("rejected", _short("Rejected by mlbot: " + "; ".join(refused) + "."))
    return Decision(
        "approved",
        _short(f"Approved by mlbot: {'; '.join(approved)} on {rc.default_branch}."),
    )


def _deployed(
    rc: RepoContext,
    model: str,
    stage: str,
    sha: str | None,
    tag: re.Match[str] | None,
    payload: Mapping[str, Any],
) -> tuple[str | None, str]:
    """The version this deployment would run, or None and why it cannot be told."""
    if payload.get("version"):
        return str(payload["version"]), ""
    if tag is not None and tag["model"] == model:
        version = tag["version"]
        registered = rc.state(model).registration_commit(version)
        if registered is None:
            return None, f"{version} is not registered"
        if sha and registered != sha:
            return None, (
                f"the tag {tag['model']}@{version} does not point at {version}'s "
                "registration commit"
            )
        return version, ""
    if not sha:
        return None, "the deployment names no commit"
    try:
        at_sha = rc.store.read_model(model, sha)
    except Exception as exc:  # an unknown commit or a broken registry there: fail closed
        return None, f"the registry at {sha[:7]} cannot be read ({' '.join(str(exc).split())})"
    version = at_sha.live.get(stage)
    if version is None:
        return None, f"the registry at {sha[:7]} runs nothing in {stage}"
    return version, ""


def _promotion_gates(
    rc: RepoContext,
    model: str,
    stage: str,
    version: str,
    sha: str | None,
    pull_numbers: Sequence[int],
) -> str | None:
    """None when `version` passes every promotion gate of `stage`, else what fails.

    As `/promote` judges it: stage order, deprecation, metric and slice gates, signature
    and scan from the version's record; required checks on the deployed commit; and
    CODEOWNERS approvals of `registry/<model>/stages.yaml`, which only a pull request of
    this repository whose head is the deployed commit can carry (its owners' reviews).
    """
    from bot.chatops import checks
    from bot.policy import gates
    from bot.policy.collect import promotion_evidence
    from bot.policy.evidence import Approvals
    from bot.registry import schema

    state = rc.state(model)
    if version not in state.versions:
        return f"the registry: {version} is not registered"
    policy = rc.policy(model)
    rule = policy.for_stage(stage)
    owners, _where = rc.owners_of(schema.stages_path(model))
    approvals = Approvals((), owners=tuple(owners))
    for number in pull_numbers:
        pull = rc.pull(int(number))
        head = (pull.get("head") or {}).get("sha")
        if head != sha or from_fork(pull, rc.full_name) or pull.get("state") != "open":
            continue
        approvals = checks.pr_approvals(
            rc.reviews(int(number)),
            owners=owners,
            head_sha=str(head),
            author=(pull.get("user") or {}).get("login") or "",
            requester=None,
            rule=rule,
        )
        break
    ci = dict(rc.check_conclusions(sha)) if sha and rule.required_checks else {}
    evidence = promotion_evidence(state, version, stage, policy, approvals=approvals, checks=ci)
    verdict = gates.evaluate_promotion(policy, evidence)
    if verdict.passed:
        return None
    return "; ".join(f"{c.name} ({c.reason.rstrip('.')})" for c in verdict.failed)


def answer(rc: RepoContext, path: str, env: str, decision: Decision) -> None:
    rc.call(
        "POST",
        path,
        body={"environment_name": env, "state": decision.state, "comment": decision.comment},
    )
