"""The model's tamper issue: registry changes mlbot did not make, reported where owners look.

One open issue per model (labels `mlbot:tamper` and `model:<name>`); a later
finding is a comment on it. While it is open, promotions of the model are
frozen (`frozen_by`); a code owner who has checked the change closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot import rendering
from bot.registry.tamper import RULE, Finding

if TYPE_CHECKING:
    from bot.github.client import GitHub

TAMPER_LABEL = "mlbot:tamper"


def open_issues(gh: GitHub, full_name: str, model: str) -> list[dict[str, Any]]:
    issues = gh.pages(
        f"/repos/{full_name}/issues",
        {"labels": f"{TAMPER_LABEL},model:{model}", "state": "open", "direction": "asc"},
    )
    return sorted((i for i in issues if not i.get("pull_request")), key=lambda i: int(i["number"]))


def report(gh: GitHub, full_name: str, model: str, findings: Sequence[Finding], branch: str) -> int:
    """Open the model's tamper issue naming every finding, or comment on the open one."""
    body = rendering.render(
        "bot.chatops",
        "flow_tamper.md.j2",
        model=model,
        findings=findings,
        branch=branch,
        rule=RULE,
    )
    existing = open_issues(gh, full_name, model)
    if existing:
        number = int(existing[0]["number"])
        gh.rest("POST", f"/repos/{full_name}/issues/{number}/comments", body={"body": body})
        return number
    created = gh.rest(
        "POST",
        f"/repos/{full_name}/issues",
        body={
            "title": f"registry: {model} changed on {branch} without mlbot",
            "body": body,
            "labels": [TAMPER_LABEL, f"model:{model}"],
        },
    )
    return int(created["number"])


def reopen(
    gh: GitHub,
    full_name: str,
    number: int,
    closer: str,
    refused: Sequence[tuple[str, Sequence[str]]],
) -> None:
    """Undo a close by someone who may not acknowledge the report, and say why.

    Closing acknowledges the change and lifts the freeze, so it is a code owner's
    decision; triage access (enough to close an issue) is not.
    """
    body = rendering.render(
        "bot.chatops", "flow_tamper_reopened.md.j2", closer=closer, refused=refused, label=None
    )
    gh.rest("PATCH", f"/repos/{full_name}/issues/{number}", body={"state": "open"})
    gh.rest("POST", f"/repos/{full_name}/issues/{number}/comments", body={"body": body})


def relabel(
    gh: GitHub,
    full_name: str,
    number: int,
    label: str,
    who: str,
    refused: Sequence[tuple[str, Sequence[str]]],
) -> None:
    """Put back a label whose removal would lift the freeze, and say why."""
    body = rendering.render(
        "bot.chatops",
        "flow_tamper_reopened.md.j2",
        closer=who,
        refused=refused,
        label=label,
    )
    gh.rest("POST", f"/repos/{full_name}/issues/{number}/labels", body={"labels": [label]})
    gh.rest("POST", f"/repos/{full_name}/issues/{number}/comments", body={"body": body})
