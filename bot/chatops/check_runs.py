"""Check runs `mlbot / <model>` on pull-request and merge-group heads (GitHub I/O).

When:
- a model workflow starts for a PR (`workflow_run` requested / in_progress): `in_progress`;
- it completes: the verdict on that run's evaluation, judged as the metric comment judges it
  (`compare_with_registry` under the default branch's policy, the same rendered table);
- an owner reviews the PR (`pull_request_review`): approvals changed, judged again;
- someone presses "Re-run" (`check_run.rerequested`): judged again, as a new check run;
- a merge queue builds a group (`merge_group.checks_requested`): the PR it names is judged
  again and the verdict reported on the group's head, so a required `mlbot / <model>`
  never leaves the queue waiting.

Every rule (mlbot.yml, CODEOWNERS, policy, registry) is read from the default branch
through one `RepoContext`; the PR head only supplies the evaluation being judged.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops.check_report import Judged, Report, check_name, in_progress, model_of, report
from bot.github.pulls import from_fork

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext

log = logging.getLogger(__name__)
# gh-readonly-queue/<base>/pr-<number>-<the PR's head SHA>
_QUEUE_REF = re.compile(
    r"^refs/heads/gh-readonly-queue/(?P<base>.+)/pr-(?P<number>\d+)-(?P<sha>[0-9a-f]{40})$"
)


@dataclass(frozen=True)
class Posted:
    """One check run written: which, where, and what it concluded."""

    model: str
    head_sha: str
    id: int
    conclusion: str | None
    action: str  # created, updated


@dataclass(frozen=True)
class Evaluated:
    """An evaluation to judge and the run that uploaded it."""

    document: Mapping[str, Any] | None
    run_id: int
    run_url: str | None
    conclusion: str | None = "success"
    problems: tuple[str, ...] = ()


# -- reading and writing check runs ------------------------------------------------------------
def ours(rc: RepoContext, sha: str, app_id: int | None = None) -> dict[str, dict[str, Any]]:
    """The latest check run of each model this bot reported on a commit, by model."""
    params: dict[str, Any] = {"per_page": 100, "filter": "latest"}
    if app_id is not None:
        params["app_id"] = app_id
    data = rc.call("GET", rc.repo_path(f"/commits/{sha}/check-runs"), params)
    found: dict[str, dict[str, Any]] = {}
    for run in sorted(data.get("check_runs", []), key=lambda r: int(r.get("id", 0))):
        model = model_of(str(run.get("name") or ""))
        if model is not None:
            found[model] = run
    return found


_locks_guard = threading.Lock()
_locks: dict[tuple[str, str], threading.Lock] = {}


def head_lock(rc: RepoContext, sha: str) -> threading.Lock:
    """One writer of a commit's check runs at a time in this process.

    A run's in_progress and completed deliveries may be worked on at once by two
    workers; without this the later-written `in_progress` could hide the verdict.
    """
    with _locks_guard:
        return _locks.setdefault((rc.full_name.lower(), sha), threading.Lock())


def publish(
    rc: RepoContext, rep: Report, existing: Mapping[str, Any] | None = None, *, new: bool = False
) -> Posted:
    """Create the check run, or edit the existing one (never two for one run of the model)."""
    body = rep.body()
    if existing is not None and not new:
        body.pop("name")
        if (existing.get("output") or {}).get("annotations_count"):
            # GitHub adds a request's annotations to those the run has: send them once.
            body["output"].pop("annotations")
        data = rc.call("PATCH", rc.repo_path(f"/check-runs/{existing['id']}"), body=body)
        action = "updated"
    else:
        data = rc.call("POST", rc.repo_path("/check-runs"), body={**body, "head_sha": rep.head_sha})
        action = "created"
    return Posted(rep.model, rep.head_sha, int(data["id"]), rep.conclusion, action)


# -- judging ----------------------------------------------------------------------------------
def judge(
    rc: RepoContext,
    model: str,
    evidence: Evaluated | None,
    *,
    pull: Mapping[str, Any],
    head_sha: str,
    report_on: str | None = None,
) -> Judged:
    """The evaluation judged as the metric comment judges it, plus the approvals that count.

    `head_sha`: the PR head the evaluation and the reviews are of; `report_on`: the
    commit the check run goes on (a merge group's head), the PR head by default.
    """
    target = report_on or head_sha
    from bot.chatops import checks
    from bot.chatops.evaluation_view import compare_with_registry
    from bot.diff.render import comment_markdown
    from bot.policy import gates
    from bot.policy.evidence import GateEvidence
    from bot.registry import schema, tamper

    details = str(pull.get("html_url") or "") or None
    if evidence is None or evidence.document is None:
        problems = list(evidence.problems) if evidence else []
        if edits := tamper.hand_edits(_pull_files(rc, pull), model):
            problems.append(tamper.explain_pull(model, edits))
        if not problems:
            problems.append(f"no evaluation of {model} was uploaded for {head_sha[:7]}")
        return Judged(model, target, None, "", problems=problems, details_url=details)
    policy = rc.policy(model)
    state = rc.state(model)
    shown, notes = compare_with_registry(evidence.document, state, policy)
    edits = tamper.hand_edits(_pull_files(rc, pull), model)
    if edits:
        # The registry is written through mlbot only: a merged hand edit would be a
        # tamper report, so the check refuses it first, with the same explanation.
        shown = _with_failure(
            shown,
            "registry",
            tamper.explain_pull(model, edits),
            fix="Take the registry changes out of this pull request; once it is merged,"
            " promote with `/promote`.",
        )
    table = comment_markdown(model, shown, run_url=evidence.run_url, limit=60_000)
    problems = [*notes, *evidence.problems]
    if evidence.conclusion not in (None, "success"):
        problems.append(f"the workflow run concluded {evidence.conclusion}")
        shown = _with_failure(shown, "workflow", f"workflow run {evidence.run_id} did not succeed.")
    version = (shown.get("candidate") or {}).get("version")
    version = str(version) if version and str(version) in state.versions else None
    stage = (state.next_stage(policy.stages, version) if version else None) or policy.baseline_stage
    rule = policy.for_stage(stage)
    path = schema.stages_path(model)
    owners, _where = rc.owners_of(path)
    approvals = checks.pr_approvals(
        rc.reviews(int(pull["number"])),
        owners=owners,
        head_sha=head_sha,
        author=(pull.get("user") or {}).get("login") or "",
        requester=None,
        rule=rule,
    )
    approval_check = gates.approvals_check(
        rule.approvals,
        GateEvidence(stage=stage, version=version or "the candidate", approvals=approvals),
        stage,
    )
    untrusted = "the evaluation ran on a fork's code" if from_fork(pull, rc.full_name) else None
    return Judged(
        model,
        target,
        shown,
        table,
        approvals=approval_check,
        problems=problems,
        untrusted=untrusted,
        details_url=details,
        external_id=str(evidence.run_id),
        next_stage=stage if version and state.live.get(stage) != version else None,
        version=version,
    )


def _with_failure(
    shown: dict[str, Any], name: str, reason: str, fix: str = "Re-run the workflow."
) -> dict[str, Any]:
    verdict = dict(shown.get("verdict") or {"passed": True, "checks": []})
    verdict["checks"] = [
        *verdict.get("checks", []),
        {"name": name, "status": "fail", "reason": reason, "fix": fix},
    ]
    verdict["passed"] = False
    return {**shown, "verdict": verdict}


def finish(rc: RepoContext, judged: Judged) -> Report:
    """The report, with annotations on the lines of `.github/mlbot.yml` and the metrics file."""
    from bot.config.schema import CONFIG_PATH

    config_raw = rc.read([CONFIG_PATH]).get(CONFIG_PATH)
    config_text = config_raw.decode("utf-8", "replace") if config_raw else None
    model = rc.config.models.get(judged.model)
    metrics_path = model.metrics if model is not None else None
    draft = report(judged, config_text=config_text, metrics_path=metrics_path)
    if metrics_path and any(a.path == metrics_path for a in draft.annotations):
        text = _file_at(rc, metrics_path, judged.head_sha)
        if text is not None:
            draft = report(
                judged, config_text=config_text, metrics_path=metrics_path, metrics_text=text
            )
    return draft


def _file_at(rc: RepoContext, path: str, sha: str) -> str | None:
    """A file of the PR head, read as data for a line number only (never trusted)."""
    import base64

    try:
        data = rc.call("GET", rc.repo_path(f"/contents/{path}"), {"ref": sha})
    except Exception:  # a missing file only loses the line number
        return None
    if not isinstance(data, dict) or data.get("encoding") != "base64":
        return None
    return base64.b64decode(data.get("content") or "").decode("utf-8", "replace")


# -- flows ------------------------------------------------------------------------------------
def models_of_run(rc: RepoContext, path: str | None) -> list[str]:
    """Models a workflow evaluates: those naming it, or every model when none names one."""
    from pathlib import PurePosixPath

    config = rc.config
    named = {m: mc.workflow for m, mc in config.models.items() if mc.workflow}
    if not named:
        return sorted(config.models)
    if path is None:
        return []
    file = PurePosixPath(path.split("@", 1)[0]).name
    return sorted(m for m, wf in named.items() if PurePosixPath(wf).name == file)


def started(
    rc: RepoContext, run: Mapping[str, Any], pulls: list[Mapping[str, Any]], app_id: int | None
) -> list[Posted]:
    """A model workflow started for PRs: `in_progress` on their head, once per run."""
    head = str(run.get("head_sha") or "")
    if not any((p.get("head") or {}).get("sha") == head for p in pulls):
        return []
    models = models_of_run(rc, run.get("path"))
    if not models:
        return []
    out = []
    with head_lock(rc, head):
        # A run's completion precedes its `completed` delivery: if it has completed, that
        # delivery judges it (or has), and an `in_progress` now would never be finished.
        now = rc.call("GET", rc.repo_path(f"/actions/runs/{int(run['id'])}"))
        if now.get("status") == "completed":
            return []
        existing = ours(rc, head, app_id)
        for model in models:
            old = existing.get(model)
            if old is not None and str(old.get("external_id")) == str(run.get("id")):
                continue  # this run already reported (perhaps completed: never go back)
            rep = in_progress(
                model,
                head,
                run.get("name"),
                details_url=run.get("html_url"),
                external_id=str(run.get("id")),
            )
            out.append(publish(rc, rep, old))
    return out


def completed(
    rc: RepoContext,
    run: Mapping[str, Any],
    pulls: list[Mapping[str, Any]],
    app_id: int | None,
) -> list[Posted]:
    """A model workflow completed: the verdict for each model it evaluated, on each PR head."""
    from bot.chatops.run_evidence import run_evidence

    head = str(run.get("head_sha") or "")
    pulls = [p for p in pulls if (p.get("head") or {}).get("sha") == head]
    if not pulls or pulls[0].get("state") != "open":
        return []
    models = models_of_run(rc, run.get("path"))
    if not models:
        return []
    found = run_evidence(rc.gh, rc.full_name, int(run["id"]), models)
    with head_lock(rc, head):
        return _completed(rc, run, pulls[0], head, models, found, app_id)


def _completed(
    rc: RepoContext,
    run: Mapping[str, Any],
    pull: Mapping[str, Any],
    head: str,
    models: list[str],
    found: Mapping[str, Any],
    app_id: int | None,
) -> list[Posted]:
    existing = ours(rc, head, app_id)
    out = []
    for model in models:
        ev = found.get(model)
        old = existing.get(model)
        if old is not None and _run_id(old) > int(run["id"]):
            continue  # a newer run of the same head reported already
        if ev is None and not _touches(rc, pull, model):
            if old is not None and _run_id(old) == int(run["id"]):
                # Announced as in progress; the PR changes nothing under the model's path.
                out.append(publish(rc, _untouched(rc, model, head, run), old))
            continue
        evidence = Evaluated(
            ev.evaluation if ev else None,
            int(run["id"]),
            run.get("html_url"),
            run.get("conclusion"),
            tuple(ev.problems) if ev else (f"workflow run {run['id']} uploaded no evaluation",),
        )
        judged = judge(rc, model, evidence, pull=pull, head_sha=head)
        out.append(publish(rc, finish(rc, judged), old))
    return out


def owns_a_model(rc: RepoContext, login: str) -> bool:
    """Whether `login` is a code owner of some model's stages (whose review can count)."""
    from bot.registry import schema

    return any(
        login.lower() in {o.lower() for o in rc.owners_of(schema.stages_path(model))[0]}
        for model in rc.config.models
    )


def _pull_files(rc: RepoContext, pull: Mapping[str, Any]) -> list[str]:
    return rc.once(
        f"pull-files:{pull['number']}",
        lambda: [
            str(f.get("filename") or "")
            for f in rc.gh.pages(rc.repo_path(f"/pulls/{int(pull['number'])}/files"))
        ],
    )


def _touches(rc: RepoContext, pull: Mapping[str, Any], model: str) -> bool:
    """Whether the PR changes a file under the model's `path` (the whole repo for ".")
    or the model's registry."""
    from bot.registry import tamper

    files = _pull_files(rc, pull)
    if tamper.hand_edits(files, model):
        return True
    root = rc.config.models[model].path.strip("/")
    if root in ("", "."):
        return True
    return any(name == root or name.startswith(root + "/") for name in files)


def _untouched(rc: RepoContext, model: str, head: str, run: Mapping[str, Any]) -> Report:
    from bot.chatops.check_report import one_line

    path = rc.config.models[model].path
    return Report(
        model,
        head,
        "neutral",
        one_line(f"➖ mlbot · {model}: this pull request changes nothing under {path}"),
        f"Workflow run {run['id']} evaluated no candidate of `{model}`, and this pull request "
        f"changes no file under `{path}`: nothing to judge.",
        external_id=str(run["id"]),
    )


def _run_id(check_run: Mapping[str, Any]) -> int:
    external = str(check_run.get("external_id") or "")
    return int(external) if external.isdigit() else 0


def rejudge(
    rc: RepoContext,
    pull: Mapping[str, Any],
    *,
    sha: str | None = None,
    models: list[str] | None = None,
    app_id: int | None = None,
    new: bool = False,
) -> list[Posted]:
    """Judge the PR head's newest evaluation again; report on `sha` (the head by default).

    `models`: those to judge (default: those this bot already reported on the head).
    `new`: post a new check run rather than editing (a re-run keeps the old one's history).
    """
    from bot.chatops import checks

    head = str((pull.get("head") or {}).get("sha") or "")
    target = sha or head
    # Under the lock from the listing on: a judgment in flight for this head (a workflow
    # run completing) finishes first, and whatever it read, this one reads after it.
    with head_lock(rc, target):
        existing = ours(rc, target, app_id)
        if models is None:
            models = sorted(existing if target == head else ours(rc, head, app_id))
        models = [m for m in models if m in rc.config.models]
        if not models:
            return []
        evaluations = checks.pr_evaluations(rc, head, models)
        out = []
        for model in models:
            found = evaluations.get(model)
            if found is None and not _touches(rc, pull, model):
                old = existing.get(model)
                run = {"id": _run_id(old) if old else 0}
                out.append(publish(rc, _untouched(rc, model, target, run), old, new=new))
                continue
            evidence = Evaluated(found.document, found.run_id, found.run_url) if found else None
            judged = judge(rc, model, evidence, pull=pull, head_sha=head, report_on=target)
            out.append(publish(rc, finish(rc, judged), existing.get(model), new=new))
    return out


def for_merge_group(rc: RepoContext, group: Mapping[str, Any], app_id: int | None) -> list[Posted]:
    """A merge group's head: the verdict of the PR it names, judged again, reported there.

    The group's ref names the PR and that PR's head SHA; both must match what GitHub says
    of the PR now, or every model this bot would gate reports `failure` (fail closed).
    """
    head_sha = str(group.get("head_sha") or "")
    ref = str(group.get("head_ref") or "")
    found = _QUEUE_REF.match(ref)
    problem = None
    pull = None
    if found is None:
        problem = f"the merge group's ref {ref!r} names no pull request"
    else:
        pull = rc.pull(int(found["number"]))
        if (pull.get("head") or {}).get("sha") != found["sha"]:
            problem = f"#{found['number']}'s head is no longer {found['sha'][:7]}"
        elif f"refs/heads/{(pull.get('base') or {}).get('ref')}" != group.get("base_ref"):
            problem = f"#{found['number']} does not target {group.get('base_ref')}"
    if pull is not None and problem is None:
        return rejudge(rc, pull, sha=head_sha, app_id=app_id, new=True)
    existing = ours(rc, head_sha, app_id)
    out = []
    for model in sorted(rc.config.models):
        judged = Judged(model, head_sha, None, "", problems=[str(problem)])
        out.append(publish(rc, report(judged), existing.get(model)))
    return out


def pull_of_check_run(rc: RepoContext, check_run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The open PR whose head the check run is on (GitHub lists it; the head must match)."""
    sha = check_run.get("head_sha")
    listed = check_run.get("pull_requests") or (check_run.get("check_suite") or {}).get(
        "pull_requests"
    )
    for ref in listed or []:
        pull = rc.pull(int(ref["number"]))
        if (pull.get("head") or {}).get("sha") == sha and pull.get("state") == "open":
            return pull
    return None


__all__ = [
    "Evaluated",
    "Posted",
    "check_name",
    "completed",
    "for_merge_group",
    "judge",
    "ours",
    "publish",
    "pull_of_check_run",
    "rejudge",
    "started",
]
