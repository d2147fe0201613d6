"""The model's drift issue: open it, or comment on the one already open.

One open drift issue per model, found by its labels (`mlbot:drift` and
`model:<name>`, plus any the policy adds). `mlbot drift --open-issue` calls
this from a workflow with the workflow's token, through the same GitHub
adapter as the bot. Two drift runs racing to open the issue converge: the
later issue is closed as a duplicate pointing at the older one, which gets
the new report as a comment.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops.retrain import open_retrain_prs
from bot.errors import InputError
from bot.ml.render import effect_words
from bot.registry.names import MODEL_NAME

if TYPE_CHECKING:
    from bot.github.client import GitHub

DRIFT_LABEL = "mlbot:drift"


def model_label(model: str) -> str:
    return f"model:{model}"


def labels_for(model: str, extra: Sequence[str] = ()) -> list[str]:
    """The drift issue's labels: the policy's (mlbot:drift by default) and the model's."""
    out: list[str] = []
    for name in [DRIFT_LABEL, *extra, model_label(model)]:
        if name not in out:
            out.append(name)
    return out


def model_of(labels: Sequence[str]) -> str | None:
    """The model a drift issue is about, from its one `model:<name>` label."""
    names = [x.removeprefix("model:") for x in labels if x.startswith("model:")]
    return names[0] if len(names) == 1 and MODEL_NAME.match(names[0]) else None


@dataclass(frozen=True)
class DriftIssue:
    number: int
    url: str
    action: str  # opened or commented


def open_issues(gh: GitHub, full_name: str, model: str) -> list[dict[str, Any]]:
    """The open drift issues of a model, oldest first (pull requests excluded)."""
    labels = f"{DRIFT_LABEL},{model_label(model)}"
    issues = gh.pages(
        f"/repos/{full_name}/issues", {"labels": labels, "state": "open", "direction": "asc"}
    )
    found = [i for i in issues if not i.get("pull_request")]
    return sorted(found, key=lambda i: int(i["number"]))


def _render(name: str, **context: Any) -> str:
    from bot import rendering

    return rendering.render("bot.chatops", name, **context)


def open_or_comment(
    gh: GitHub,
    full_name: str,
    model: str,
    report: str,
    *,
    drift: Mapping[str, Any] | None = None,
    extra_labels: Sequence[str] = (),
) -> DriftIssue:
    """Open the model's drift issue with `report` as its body, or comment it on the open one."""
    if not MODEL_NAME.match(model):
        raise InputError(f"{model!r} is not a model name.")
    drift = dict(drift or {})
    existing = open_issues(gh, full_name, model)
    if existing:
        issue = existing[0]
        comment = gh.rest(
            "POST",
            f"/repos/{full_name}/issues/{issue['number']}/comments",
            body={"body": again_body(gh, full_name, model, issue, report, drift)},
        )
        return DriftIssue(int(issue["number"]), str(comment["html_url"]), "commented")
    title = _render("flow_drift_title.txt.j2", model=model, d=drift).strip()
    created = gh.rest(
        "POST",
        f"/repos/{full_name}/issues",
        body={"title": title, "body": report, "labels": labels_for(model, extra_labels)},
    )
    number = int(created["number"])
    # A drift run elsewhere may have opened one at the same moment: the oldest stays open.
    others = [i for i in open_issues(gh, full_name, model) if int(i["number"]) != number]
    older = [i for i in others if int(i["number"]) < number]
    if older:
        keep = older[0]
        gh.rest(
            "POST",
            f"/repos/{full_name}/issues/{keep['number']}/comments",
            body={"body": again_body(gh, full_name, model, keep, report, drift)},
        )
        gh.rest(
            "POST",
            f"/repos/{full_name}/issues/{number}/comments",
            body={"body": _render("flow_drift_duplicate.md.j2", keep=keep["number"])},
        )
        gh.rest(
            "PATCH",
            f"/repos/{full_name}/issues/{number}",
            body={"state": "closed", "state_reason": "not_planned"},
        )
        return DriftIssue(int(keep["number"]), str(keep["html_url"]), "commented")
    return DriftIssue(number, str(created["html_url"]), "opened")


_STATE_RE = re.compile(r"<!-- mlbot:drift-state (\{.*?\}) -->")


def last_state(texts: Sequence[str]) -> dict[str, Any] | None:
    """The per-column state the latest report on the issue recorded (None: none found)."""
    for text in reversed(texts):
        found = _STATE_RE.findall(text or "")
        if found:
            try:
                data = json.loads(found[-1])
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    return None


def changes(before: Mapping[str, Any] | None, drift: Mapping[str, Any]) -> dict[str, list[str]]:
    """Columns that started drifting, stopped, or still drift, since the last report."""
    now = {str(c["column"]): bool(c.get("drifted")) for c in drift.get("columns", [])}
    was = {k: bool((v or {}).get("drifted")) for k, v in (before or {}).items()}
    return {
        "started": sorted(c for c, d in now.items() if d and not was.get(c)),
        "stopped": sorted(c for c, d in now.items() if not d and was.get(c)),
        "still": sorted(c for c, d in now.items() if d and was.get(c)),
    }


def again_body(
    gh: GitHub,
    full_name: str,
    model: str,
    issue: Mapping[str, Any],
    report: str,
    drift: Mapping[str, Any],
) -> str:
    """A re-detection's comment: what changed since the last report, and the retraining PR."""
    number = int(issue["number"])
    texts = [str(issue.get("body") or "")]
    texts += [
        str(c.get("body") or "") for c in gh.pages(f"/repos/{full_name}/issues/{number}/comments")
    ]
    before = last_state(texts)
    retrain = open_retrain_prs(gh, full_name, model)
    state = _STATE_RE.search(report)
    return _render(
        "flow_drift_again.md.j2",
        d=drift,
        changed=changes(before, drift) if before is not None else None,
        retrain=retrain[0] if retrain else None,
        report=report,
        state=state.group(0) if state else "",
        effects={str(c["column"]): effect_words(c.get("effect")) for c in drift.get("columns", [])},
    )


def client_from_environment(env: Mapping[str, str] | None = None) -> tuple[GitHub, str]:
    """(adapter, owner/name) from a workflow's environment: GITHUB_TOKEN, GITHUB_REPOSITORY."""
    from bot.github.client import GitHubClientFactory

    env = os.environ if env is None else env
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    repository = env.get("GITHUB_REPOSITORY", "")
    missing = [
        name
        for name, value in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository))
        if not value
    ]
    if missing:
        raise InputError(
            f"--open-issue needs {' and '.join(missing)} in the environment "
            "(a workflow step gets them from `env: GITHUB_TOKEN: ${{ github.token }}`)."
        )
    if repository.count("/") != 1:
        raise InputError(f"GITHUB_REPOSITORY must be owner/name, not {repository!r}.")
    base = env.get("GITHUB_API_URL") or "https://api.github.com"
    factory = GitHubClientFactory(base, token=token)
    return factory.for_installation(None), repository
