"""The PR metric comment: one sticky comment per model per PR, edited in place.

When a model's workflow run completes for a pull request (or `/status` is
asked in one), the bot reads that run's `evaluation.json` artifact (plus the
scan and signature evidence the same run uploaded), compares the candidate
with what the registry says is live in the baseline stage, judges it with
the policy read from the **default branch**, and writes one comment:
the diff table, the verdict, supply-chain status and a Mermaid chart of the
metric over recent production versions and the candidate.

Stickiness: each comment starts with a hidden marker naming the model and
the part; every page of comments is searched, only the bot's own comments
count, and an existing comment is always edited rather than a new one
posted. Past GitHub's 65,536-character limit the text is split into
numbered parts that each render (`bot.rendering.split`).

The run's artifacts and pull requests are read by `bot.chatops.run_evidence`,
the default branch by `bot.chatops.repository`; the evaluation is judged
against the registry by `bot.chatops.evaluation_view` (as the check runs judge
it), the chart drawn by `bot.chatops.metric_chart`.

Runs from fork PRs are read as data only (JSON out of a zip, never executed,
every value escaped); the App comments with its own token, and the comment
says that the numbers are what the fork's code reported.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from bot.chatops.evaluation_view import compare_with_registry
from bot.chatops.metric_chart import chart_data, chart_metric, production_history
from bot.chatops.repository import DefaultBranch
from bot.chatops.run_evidence import (
    RunEvidence,
    RunInfo,
    completed_runs,
    pulls_of_run,
    run_evidence,
    run_info,
)
from bot.diff.headline import NextStep, Promoted
from bot.diff.render import GITHUB_COMMENT_LIMIT, comment_markdown, metric_format
from bot.github.pulls import PR_EVENTS, from_fork
from bot.rendering.numbers import plural
from bot.rendering.split import split_markdown

if TYPE_CHECKING:
    from bot.config.schema import RepoConfig
    from bot.github.client import GitHub
    from bot.policy.schema import Policy
    from bot.registry.state import ModelState
    from bot.webhooks.payloads import WorkflowRunEvent

log = logging.getLogger(__name__)

MARKER_PREFIX = "<!-- mlbot:metrics:"
_MARKER_RE = re.compile(r"\A<!-- mlbot:metrics:(?P<model>[A-Za-z0-9._-]+) part=(?P<part>\d+) -->")
# Room kept in each part for its marker, its "part i of n" line and the closers the split adds.
_PART_RESERVE = 400
# Workflow runs looked at for `/status` (newest first) before giving up.
STATUS_RUNS = 10
FORK_NOTE = (
    "This pull request comes from a fork. Its evaluation ran on the fork's code and is shown "
    "as that run reported it; nothing from the fork ran with the bot's token, and `/promote` "
    "judges every gate again."
)


@dataclass(frozen=True)
class CommentOutcome:
    """What happened to one model's comment on one PR."""

    model: str | None
    action: str  # created, updated, unchanged, skipped
    number: int | None = None
    urls: tuple[str, ...] = ()
    reason: str | None = None
    parts: int = 0


def marker(model: str, part: int = 1) -> str:
    return f"{MARKER_PREFIX}{model} part={part} -->"


def parse_marker(body: str | None) -> tuple[str, int] | None:
    """(model, part) of a metric comment's body, or None for any other comment."""
    found = _MARKER_RE.match(body or "")
    return (found["model"], int(found["part"])) if found else None


@cache
def _env():
    from bot import rendering

    return rendering.environment("bot.chatops")


def render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context)


def promotion_commit(repo: DefaultBranch, model: str, version: str, stage: str) -> str | None:
    """The registry commit that made `version` live in `stage` (one listing of its commits)."""
    from bot.registry import plan

    made_live = {plan.subject(a, model, version, stage) for a in ("promote", "rollback")}
    for commit in repo.store.log(model):
        if commit.message.split("\n", 1)[0] in made_live:
            return commit.sha
    return None


def supply_chain_rows(evidence: RunEvidence, policy: Policy | None) -> list[dict[str, str]]:
    """One row for the scan and one for the signature: status and what the policy asks.

    A failure no stage requires is a warning (⚠️ not required here), not a ❌
    that reads as blocking.
    """

    def required(flag: str) -> list[str]:
        if policy is None:
            return []
        return [s for s in policy.stages if getattr(policy.for_stage(s), flag)]

    rows = []
    scan, need_scan = evidence.scan, required("require_scan")
    if scan is None:
        status = "➖ not run in this workflow run"
    elif scan.get("passed") is True:
        counts = scan.get("counts") or {}
        shown = ", ".join(f"{k.lower()} {v}" for k, v in counts.items() if v) or "no findings"
        status = f"✅ no blocking finding ({shown})"
    else:
        blocking = [str(b) for b in scan.get("blocking") or []]
        mark = "❌" if need_scan else "⚠️"
        status = (
            f"{mark} {plural(len(blocking), 'blocking finding')}"
            + (" (not required here)" if not need_scan else "")
            + ": "
            + ", ".join(blocking[:10])
            + (" …" if len(blocking) > 10 else "")
        )
    rows.append({"what": "Trivy scan", "status": status, "required": ", ".join(need_scan)})
    sig, need_sig = evidence.signature, required("require_signature")
    if sig is None:
        status = "➖ not signed in this workflow run"
    elif sig.get("verified") is True:
        who = sig.get("identity") or sig.get("key_fingerprint") or sig.get("kind") or ""
        status = "✅ verified" + (f" ({who})" if who else "")
    else:
        mark = "❌ not verified" if need_sig else "⚠️ not verified (not required here)"
        status = f"{mark}: {sig.get('reason') or 'no reason given'}"
    rows.append({"what": "cosign signature", "status": status, "required": ", ".join(need_sig)})
    return rows


def next_step(
    repo: DefaultBranch, model: str, policy: Policy, state: ModelState, version: object, author: str
) -> NextStep:
    """`/promote`, and who must approve the stage it would go to (never the PR's author)."""
    from bot.registry import schema

    stages = policy.stages
    live_in = [s for s in stages if state.live.get(s) == version]
    later = stages[stages.index(live_in[-1]) + 1 :] if live_in else stages
    target = later[0] if later else None
    if target is None:
        return NextStep(stage=None)
    owners, _ = repo.owners_of(schema.stages_path(model))
    approvers = [o for o in owners if o.lower() != author.lower()]
    return NextStep(stage=target, approvals=policy.for_stage(target).approvals, approvers=approvers)


def comment_body(
    model: str,
    evidence: RunEvidence,
    *,
    state: ModelState | None,
    policy: Policy | None,
    run: RunInfo,
    fork: bool,
    next_step: NextStep | None = None,
    commit_of: Callable[[str], str | None] = lambda stage: None,
) -> str:
    """The whole comment for one model, before splitting.

    `commit_of(stage)`: the registry commit that made the candidate live there, asked
    only when it is (the comment then says it was promoted, in that commit).
    """
    if evidence.evaluation is None:
        return render(
            "flow_metric_missing.md.j2",
            model=model,
            run=run,
            problems=evidence.problems,
            fork=fork,
        )
    shown, notes = compare_with_registry(evidence.evaluation, state, policy)
    stage = policy.baseline_stage if policy is not None else "production"
    candidate = shown.get("candidate", {})
    cand_metrics = candidate.get("metrics") or {}
    production = shown.get("production") or {}
    metric = chart_metric(policy, cand_metrics)
    chart = None
    if metric is not None:
        chart = chart_data(
            metric,
            production_history(state, stage, metric),
            cand_metrics.get(metric),
            candidate_version=candidate.get("version"),
            shown={production.get("version"): (production.get("metrics") or {}).get(metric)},
            decimals=metric_format(metric, policy).decimals,
        )
    sections = [
        render(
            "flow_metric_sections.md.j2",
            rows=supply_chain_rows(evidence, policy),
            chart=chart,
            stage=stage,
        )
    ]
    promoted = shown.get("promoted")
    alerts = [("NOTE", FORK_NOTE)] if fork else []
    alerts += [("WARNING", n) for n in notes + evidence.problems]
    return comment_markdown(
        model,
        shown,
        run_url=run.html_url,
        sections=sections,
        limit=10**9,  # never cut here: the sticky comment splits into parts instead
        policy=policy,
        next_step=None if promoted or fork else next_step,
        promoted=Promoted(promoted["stage"], commit_of(promoted["stage"])) if promoted else None,
        alerts=alerts,
        footer=render("flow_metric_footer.md.j2", run=run),
    )


def sticky_parts(model: str, body: str, limit: int = GITHUB_COMMENT_LIMIT) -> list[str]:
    """The comment bodies to post, each with its marker, each at most `limit` characters."""
    chunks = split_markdown(body, limit - _PART_RESERVE)
    total = len(chunks)
    out = []
    for index, chunk in enumerate(chunks, start=1):
        head = render(
            "flow_metric_part.md.j2", marker=marker(model, index), part=index, total=total
        )
        out.append(head + chunk)
    return out


_locks_guard = threading.Lock()
_locks: dict[tuple[str, int, str], threading.Lock] = {}


def _lock_for(key: tuple[str, int, str]) -> threading.Lock:
    # Two deliveries for one PR in two workers must not both create "the" comment.
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _existing_parts(
    gh: GitHub, full_name: str, number: int, model: str, bot_login: str
) -> dict[int, list[Any]]:
    """The bot's comments for this model on this PR, by part, oldest first, from every page."""
    found: dict[int, list[Any]] = {}
    me = bot_login.lower()
    for comment in gh.iter_issue_comments(full_name, number):
        parsed = parse_marker(comment.body)
        if parsed is None or parsed[0] != model:
            continue
        # Only the bot's own comments: anyone can paste a marker, nobody else's text is edited.
        if (comment.user.login or "").lower() != me:
            continue
        found.setdefault(parsed[1], []).append(comment)
    return found


def publish(
    gh: GitHub, full_name: str, number: int, model: str, parts: list[str], *, bot_login: str
) -> CommentOutcome:
    """Edit the model's comment parts in place; create only what is missing; drop extras."""
    from github.IssueComment import IssueComment

    with _lock_for((full_name.lower(), number, model)):
        existing = _existing_parts(gh, full_name, number, model, bot_login)
        created = changed = 0
        urls: list[str] = []
        for index, body in enumerate(parts, start=1):
            mine = existing.get(index, [])
            if mine:
                comment = mine[0]
                if comment.body != body:
                    comment.edit(body)
                    changed += 1
            else:
                _headers, data = gh.api.requester.requestJsonAndCheck(
                    "POST", f"/repos/{full_name}/issues/{number}/comments", input={"body": body}
                )
                comment = IssueComment(gh.api.requester, _headers, data, completed=True)
                created += 1
            urls.append(comment.html_url)
        for index, mine in existing.items():
            # Parts a shorter comment no longer needs, and duplicates left by a race elsewhere.
            for comment in mine[1:] if index <= len(parts) else mine:
                comment.delete()
                changed += 1
        if created:
            changed += _drop_raced_duplicates(gh, full_name, number, model, bot_login)
    action = "updated" if (created or changed) else "unchanged"
    if not existing.get(1):
        action = "created"
    return CommentOutcome(model, action, number, tuple(urls), parts=len(parts))


def _drop_raced_duplicates(
    gh: GitHub, full_name: str, number: int, model: str, bot_login: str
) -> int:
    """Another replica may have created the same part meanwhile: keep the oldest of each."""
    dropped = 0
    for mine in _existing_parts(gh, full_name, number, model, bot_login).values():
        for comment in sorted(mine, key=lambda c: c.id)[1:]:
            comment.delete()
            dropped += 1
    return dropped


def _workflow_models(config: RepoConfig, run: RunInfo) -> list[str]:
    """Models whose evaluation this run may carry: all, unless models name their workflows."""
    named = {m: mc.workflow for m, mc in config.models.items() if mc.workflow}
    if not named or run.path is None:
        return sorted(config.models)
    file = PurePosixPath(run.path.split("@", 1)[0]).name
    hits = sorted(m for m, wf in named.items() if PurePosixPath(wf).name == file)
    unnamed = sorted(m for m in config.models if m not in named)
    return hits + unnamed


def update_for_pr(
    gh: GitHub,
    full_name: str,
    number: int,
    *,
    bot_login: str,
    model: str | None = None,
    run: RunInfo | Mapping[str, Any] | None = None,
    default_branch: str | None = None,
    pull: Mapping[str, Any] | None = None,
    reader: DefaultBranch | None = None,
) -> list[CommentOutcome]:
    """Post or update the metric comment(s) of PR `number`.

    `reader`: the default branch as already read in this job (by the check runs, say).

    `run`: the completed workflow run to read (a `RunInfo` or the run's JSON);
    None (as for `/status`) takes the newest completed run of the PR's head
    commit that uploaded an evaluation. `model` limits the comment to one
    model. Returns one outcome per model looked at; a `skipped` outcome
    carries the reason (closed PR, stale run, no evaluation yet...).
    """
    pull = pull or gh.rest("GET", f"/repos/{full_name}/pulls/{number}")
    if pull.get("state") != "open":
        return [CommentOutcome(model, "skipped", number, reason=f"#{number} is not open.")]
    head_sha = str((pull.get("head") or {}).get("sha") or "")
    info = run_info(run) if isinstance(run, Mapping) else run
    if info is not None and info.head_sha != head_sha:
        return [
            CommentOutcome(
                model,
                "skipped",
                number,
                reason=f"run {info.id} is for {info.head_sha[:7]}, not the PR's head "
                f"{head_sha[:7]}: a newer run will report.",
            )
        ]
    branch = default_branch or str(
        ((pull.get("base") or {}).get("repo") or {}).get("default_branch") or "main"
    )
    repo = reader if reader is not None and reader.branch == branch else None
    repo = repo or DefaultBranch(gh, full_name, branch)
    if repo.config is None:
        return [
            CommentOutcome(
                model, "skipped", number, reason=f".github/mlbot.yml is missing on {branch}."
            )
        ]
    if model is not None and model not in repo.config.models:
        known = ", ".join(sorted(repo.config.models)) or "none"
        return [
            CommentOutcome(
                model, "skipped", number, reason=f"{model!r} is not a configured model ({known})."
            )
        ]
    fork = from_fork(pull, full_name)
    found: dict[str, tuple[RunInfo, RunEvidence]] = {}
    if info is not None:
        wanted = [model] if model else _workflow_models(repo.config, info)
        for name, ev in run_evidence(gh, full_name, info.id, wanted).items():
            found[name] = (info, ev)
    else:
        wanted = [model] if model else sorted(repo.config.models)
        for candidate in completed_runs(gh, full_name, head_sha, STATUS_RUNS):
            missing = [m for m in wanted if m not in found]
            if not missing:
                break
            for name, ev in run_evidence(gh, full_name, candidate.id, missing).items():
                found[name] = (candidate, ev)
    if not found:
        what = f"for {model}" if model else "for any configured model"
        where = f"run {info.id}" if info is not None else f"head {head_sha[:7]}"
        return [
            CommentOutcome(
                model, "skipped", number, reason=f"no evaluation.json {what} in {where} yet."
            )
        ]
    outcomes = []
    for name in sorted(found):
        run_of, evidence = found[name]
        state = repo.state(name)
        policy = repo.policy(name)
        version = (evidence.evaluation or {}).get("candidate", {}).get("version")
        author = str((pull.get("user") or {}).get("login") or "")
        step = next_step(repo, name, policy, state, version, author)
        body = comment_body(
            name,
            evidence,
            state=state,
            policy=policy,
            run=run_of,
            fork=fork,
            next_step=step,
            commit_of=lambda stage, m=name, v=version: promotion_commit(repo, m, str(v), stage),
        )
        outcomes.append(
            publish(gh, full_name, number, name, sticky_parts(name, body), bot_login=bot_login)
        )
    return outcomes


def update_for_workflow_run(
    gh: GitHub,
    event: WorkflowRunEvent,
    *,
    bot_login: str,
    reader: DefaultBranch | None = None,
    pulls: list[dict[str, Any]] | None = None,
) -> list[CommentOutcome]:
    """`workflow_run.completed`: the metric comment of every PR the run evaluated."""
    run = event.workflow_run
    if run.event not in PR_EVENTS:
        return [CommentOutcome(None, "skipped", reason=f"run {run.id} ran on {run.event}.")]
    repo = event.repository
    if repo is None:
        return [CommentOutcome(None, "skipped", reason="the delivery names no repository.")]
    info = RunInfo(
        run.id, run.head_sha, run.html_url, run.name, run.path, run.conclusion, run.event
    )
    outcomes: list[CommentOutcome] = []
    for pull in pulls if pulls is not None else pulls_of_run(gh, repo.full_name, event):
        outcomes += update_for_pr(
            gh,
            repo.full_name,
            int(pull["number"]),
            bot_login=bot_login,
            run=info,
            default_branch=repo.default_branch,
            pull=pull,
            reader=reader,
        )
    return outcomes


__all__: list[str] = [
    "CommentOutcome",
    "comment_body",
    "marker",
    "parse_marker",
    "publish",
    "sticky_parts",
    "update_for_pr",
    "update_for_workflow_run",
]
