"""Retraining pull requests, opened by the bot from a drift issue or `/retrain`.

The PR changes one file, `registry/<model>/retrain.yaml` (why, which issue,
who asked, which data window), on the bot's own branch
`mlbot/retrain/<model>/<issue>`, so the model's PR workflow runs: train,
evaluate against production, and the metric comment. Its body says
`Closes #N`, so merging it closes the issue, and the issue gets a link.

One open retraining PR per model: a second trigger (the `labeled` event that
follows `opened`, another `/retrain`, a second drift issue) points at the
open PR instead of opening another. Everything read comes from the default
branch; the reason text is stored verbatim in the YAML (quoted by the YAML
dumper) and shown escaped in the PR body, where it can neither mention
people nor close other issues.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops.repository import DefaultBranch
from bot.errors import InputError
from bot.registry.names import check_model_name

if TYPE_CHECKING:
    from bot.github.client import GitHub

BRANCH = "mlbot/retrain/{model}/{issue}"
RETRAIN_PATH = "registry/{model}/retrain.yaml"
REASON_LIMIT = 500
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")
RUN_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::\d+)?/[\w.-]+/[\w.-]+/actions/runs/\d+")


@dataclass(frozen=True)
class RetrainPR:
    number: int
    url: str
    branch: str
    created: bool  # False: an open retraining PR was already there
    issue: int


def branch_for(model: str, issue: int) -> str:
    return BRANCH.format(model=model, issue=issue)


def branch_prefix(model: str) -> str:
    return BRANCH.format(model=model, issue="")


def _neutral(text: str) -> str:
    """Reason text for a PR body, as inline code: nothing in it renders, so it can neither
    mention people, link anything, nor close issues (`closes #N` is also broken apart, for
    any tool that reads keywords in code)."""
    text = " ".join(str(text).split())[:REASON_LIMIT]
    if not text:
        return "no reason given"
    text = re.sub(r"([@#])(?=[\w-])", "\\1\u200b", text)
    from bot.rendering import code

    return code(text)


def _window_words(window: Mapping[str, str]) -> str:
    start, end = window.get("start"), window.get("end")
    if start and end:
        return f"{start} to {end}"
    if end:
        return f"up to {end}"
    return ", ".join(f"{k} {v}" for k, v in window.items())


def pr_body(
    model: str,
    *,
    reason: str,
    requested_by: str,
    stage: str,
    live: str | None,
    issue: int | None = None,
    run_url: str | None = None,
    window: Mapping[str, str] | None = None,
) -> str:
    """The retraining PR's body, whoever opens it (the bot, or the retrain workflow's script).

    Why (the reason, who asked, the issue or workflow run), what the PR pipeline will do,
    and the command that promotes the result.
    """
    from bot.rendering import code

    check_model_name(model)
    if run_url is not None and not RUN_URL.fullmatch(run_url):
        raise InputError(f"{run_url!r} is not a workflow run URL (https://.../actions/runs/N).")
    # The one who asked is mentioned (it is their PR); anything that is not a login is shown.
    requester = f"@{requested_by}" if LOGIN.fullmatch(requested_by) else code(requested_by)
    window = dict(window or {})
    return _render(
        "flow_retrain_pr.md.j2",
        model=model,
        issue=issue,
        reason=_neutral(reason),
        requester=requester,
        window=window,
        window_words=_window_words(window),
        stage=stage,
        live=live,
        run_url=run_url,
        run_id=(run_url or "").rstrip("/").rsplit("/", 1)[-1],
        path=RETRAIN_PATH.format(model=model),
    )


def retrain_yaml(
    model: str,
    *,
    issue: int,
    reason: str,
    requested_by: str,
    requested_at: dt.datetime,
    data_window: Mapping[str, str],
) -> str:
    """The file the PR changes: plain YAML the training step may read."""
    from bot.registry import yamlio

    doc = {
        "schema": "mlbot/v1",
        "model": model,
        "reason": " ".join(str(reason).split())[:REASON_LIMIT],
        "issue": issue,
        "requested_by": requested_by,
        "requested_at": requested_at.isoformat(),
        "data_window": dict(data_window),
    }
    header = (
        "# Written by mlbot for a retraining PR: changing this file runs the model's workflow.\n"
    )
    return header + yamlio.dump(doc)


def default_window(live_since: dt.datetime | None, now: dt.datetime) -> dict[str, str]:
    """Data gathered while the live version ran: from when it went live until now."""
    window = {"end": now.date().isoformat()}
    if live_since is not None:
        window["start"] = live_since.date().isoformat()
    return window


def _status(exc: Exception) -> int | None:
    return getattr(exc, "status", None)


def open_retrain_prs(gh: GitHub, full_name: str, model: str) -> list[dict[str, Any]]:
    """Open PRs from this repository's `mlbot/retrain/<model>/` branches, oldest first."""
    prefix = branch_prefix(model)
    found: list[dict[str, Any]] = []
    for pull in gh.pages(f"/repos/{full_name}/pulls", {"state": "open"}):
        head = pull.get("head") or {}
        repo = (head.get("repo") or {}).get("full_name") or ""
        if str(head.get("ref", "")).startswith(prefix) and repo.lower() == full_name.lower():
            found.append(pull)
    return sorted(found, key=lambda p: int(p["number"]))


_locks_guard = threading.Lock()
_locks: dict[tuple[str, str], threading.Lock] = {}


def _lock_for(full_name: str, model: str) -> threading.Lock:
    # `issues.opened` and `issues.labeled` of one new issue arrive together in two workers.
    with _locks_guard:
        return _locks.setdefault((full_name.lower(), model), threading.Lock())


def _render(name: str, **context: Any) -> str:
    from bot import rendering

    return rendering.render("bot.chatops", name, **context)


def _live_since(gh: GitHub, full_name: str, branch: str, model: str) -> tuple[str, Any]:
    """(head SHA, (baseline stage, its StageState or None)), read on the default branch."""
    from bot.config.schema import CONFIG_PATH
    from bot.registry import schema

    repo = DefaultBranch(gh, full_name, branch)
    head = repo.head
    if head is None:
        raise InputError(f"{full_name} has no branch {branch} to retrain from.")
    config = repo.config
    if config is None:
        raise InputError(f"{CONFIG_PATH} is missing on {branch}.")
    if model not in config.models:
        known = ", ".join(sorted(config.models)) or "none"
        raise InputError(f"'{model}' is not a configured model (configured: {known}).")
    policy = repo.policy(model)
    # Only stages.yaml: reading the whole model (records, tags) is not needed here.
    path = schema.stages_path(model)
    raw = repo.read([path])[path]
    live = None
    if raw is not None:
        live = schema.parse_file(path, raw, schema.StagesFile).stages.get(policy.baseline_stage)
    return head, (policy.baseline_stage, live)


def auto_retrain_enabled(gh: GitHub, full_name: str, branch: str, model: str) -> bool:
    """Whether the policy on the default branch retrains `model` by itself on drift."""
    repo = DefaultBranch(gh, full_name, branch)
    config = repo.config if repo.head is not None else None
    if config is None or model not in config.models:
        return False
    return repo.policy(model).drift.auto_retrain


def open_retrain_pr(
    gh: GitHub,
    full_name: str,
    model: str,
    issue: int,
    *,
    requested_by: str,
    reason: str,
    default_branch: str = "main",
    data_window: Mapping[str, str] | None = None,
    announce: bool = True,
    now: dt.datetime | None = None,
) -> RetrainPR:
    """Open the retraining PR for `model` from issue `issue`, or return the one already open.

    `announce`: comment the PR's link on the issue (when opened, and when an
    open PR from another issue is reused). A repeated trigger from the same
    issue says nothing more: the link is already there.
    """
    check_model_name(model)
    if int(issue) <= 0:
        raise InputError(f"#{issue} is not an issue number.")
    now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    branch = branch_for(model, issue)
    with _lock_for(full_name, model):
        existing = open_retrain_prs(gh, full_name, model)
        if existing:
            pull = existing[0]
            found = RetrainPR(
                int(pull["number"]), str(pull["html_url"]), pull["head"]["ref"], False, issue
            )
            if announce and found.branch != branch and not _pointed(gh, full_name, issue, found):
                _comment(gh, full_name, issue, "flow_retrain_exists.md.j2", pr=found, model=model)
            return found
        head, (stage, live) = _live_since(gh, full_name, default_branch, model)
        window = dict(data_window or default_window(live.since if live else None, now))
        content = retrain_yaml(
            model,
            issue=issue,
            reason=reason,
            requested_by=requested_by,
            requested_at=now,
            data_window=window,
        )
        commit = _commit(gh, full_name, head, model, issue, content, reason)
        _point_branch(gh, full_name, branch, commit)
        title = _render("flow_retrain_title.txt.j2", model=model, issue=issue).strip()
        body = pr_body(
            model,
            reason=reason,
            requested_by=requested_by,
            stage=stage,
            live=live.version if live else None,
            issue=issue,
            window=window,
        )
        pull = _create_pull(gh, full_name, branch, default_branch, title, body)
        if pull is None:  # someone opened it between our listing and now
            again = open_retrain_prs(gh, full_name, model)
            if not again:
                raise InputError(f"GitHub refused to open the retraining PR from {branch}.")
            p = again[0]
            return RetrainPR(int(p["number"]), str(p["html_url"]), p["head"]["ref"], False, issue)
        opened = RetrainPR(int(pull["number"]), str(pull["html_url"]), branch, True, issue)
        if announce:
            _comment(gh, full_name, issue, "flow_retrain_opened.md.j2", pr=opened, model=model)
        return opened


def link_marker(pr: RetrainPR) -> str:
    return f"<!-- mlbot:retrain-link pr={pr.number} -->"


def _pointed(gh: GitHub, full_name: str, issue: int, pr: RetrainPR) -> bool:
    """Whether the issue already links the PR (one issue's opened and labeled events race)."""
    marker = link_marker(pr)
    return any(marker in (c.body or "") for c in gh.iter_issue_comments(full_name, issue))


def _comment(gh: GitHub, full_name: str, issue: int, template: str, **context: Any) -> None:
    gh.rest(
        "POST",
        f"/repos/{full_name}/issues/{issue}/comments",
        body={"body": _render(template, **context)},
    )


def _commit(
    gh: GitHub, full_name: str, head: str, model: str, issue: int, content: str, reason: str
) -> str:
    """One commit on top of the default branch that writes retrain.yaml (Git Data API)."""
    base = gh.rest("GET", f"/repos/{full_name}/git/commits/{head}")
    tree = gh.rest(
        "POST",
        f"/repos/{full_name}/git/trees",
        body={
            "base_tree": base["tree"]["sha"],
            "tree": [
                {
                    "path": RETRAIN_PATH.format(model=model),
                    "mode": "100644",
                    "type": "blob",
                    "content": content,
                }
            ],
        },
    )
    message = f"retrain: {model} (#{issue})\n\n{' '.join(reason.split())[:REASON_LIMIT]}\n"
    commit = gh.rest(
        "POST",
        f"/repos/{full_name}/git/commits",
        body={"message": message, "tree": tree["sha"], "parents": [head]},
    )
    return str(commit["sha"])


def _point_branch(gh: GitHub, full_name: str, branch: str, sha: str) -> None:
    """Create the bot's branch at `sha`, never force-moving an existing one.

    A leftover branch (a closed PR, an interrupted attempt) is advanced with a
    merge commit whose parents are its old tip and the default branch head and
    whose tree is the new one: a fast-forward, and the PR's diff against the
    default branch is still only retrain.yaml.
    """
    from urllib.parse import quote

    from github import GithubException

    try:
        gh.rest(
            "POST",
            f"/repos/{full_name}/git/refs",
            body={"ref": f"refs/heads/{branch}", "sha": sha},
        )
        return
    except GithubException as exc:
        if _status(exc) != 422:
            raise
    ref_path = f"/repos/{full_name}/git/refs/{quote('heads/' + branch, safe='/')}"
    leftover = gh.rest("GET", f"/repos/{full_name}/git/ref/{quote('heads/' + branch, safe='/')}")
    tip = str(leftover["object"]["sha"])
    ours = gh.rest("GET", f"/repos/{full_name}/git/commits/{sha}")
    merge = gh.rest(
        "POST",
        f"/repos/{full_name}/git/commits",
        body={
            "message": ours["message"],
            "tree": ours["tree"]["sha"],
            "parents": [tip, *(p["sha"] for p in ours["parents"])],
        },
    )
    gh.rest("PATCH", ref_path, body={"sha": merge["sha"], "force": False})


def _create_pull(
    gh: GitHub, full_name: str, branch: str, base: str, title: str, body: str
) -> dict[str, Any] | None:
    from github import GithubException

    try:
        return gh.rest(
            "POST",
            f"/repos/{full_name}/pulls",
            body={"title": title, "head": branch, "base": base, "body": body},
        )
    except GithubException as exc:
        if _status(exc) == 422:  # "A pull request already exists for ..."
            return None
        raise
