"""What a model's workflow run uploaded (evaluation, scan and signature artifacts), and
the pull requests it evaluated.

The metric comment, the check runs and the promotion checks all read a run's
evidence here. Artifacts are read as data only (JSON out of a zip, never executed),
so a run from a fork PR can be shown without trusting its code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.github.client import GitHub
    from bot.webhooks.payloads import WorkflowRunEvent

EVALUATION_ARTIFACT = "mlbot-evaluation-{model}"
SCAN_ARTIFACT = "mlbot-scan-{model}"
SIGNATURE_ARTIFACT = "mlbot-signature-{model}"


@dataclass(frozen=True)
class RunInfo:
    """The few facts of a workflow run the bot uses."""

    id: int
    head_sha: str
    html_url: str | None
    name: str | None
    path: str | None
    conclusion: str | None
    event: str | None


def run_info(data: Mapping[str, Any]) -> RunInfo:
    """A `RunInfo` from a workflow run's JSON (REST or webhook)."""
    return RunInfo(
        id=int(data["id"]),
        head_sha=str(data.get("head_sha") or ""),
        html_url=data.get("html_url"),
        name=data.get("name"),
        path=data.get("path"),
        conclusion=data.get("conclusion"),
        event=data.get("event"),
    )


@dataclass
class RunEvidence:
    """What one run uploaded for one model, already parsed (data only, never executed)."""

    evaluation: dict[str, Any] | None
    scan: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


WORKFLOWS_DIR = ".github/workflows"


def workflow_path(run: RunInfo) -> str | None:
    """The workflow file a run ran, without GitHub's `@ref` suffix (reusable workflows)."""
    return run.path.split("@", 1)[0] if run.path else None


@dataclass(frozen=True)
class Provenance:
    """Whether a run's artifacts may be evidence for a model's promotion, and why not."""

    trusted: bool
    reason: str
    fix: str | None = None


def provenance(
    run: RunInfo,
    model: str,
    workflow: str | None,
    *,
    at_head: str | bytes | None,
    on_default: str | bytes | None,
    default_branch: str,
    trust_pr_workflows: bool = False,
) -> Provenance:
    """Evidence comes only from the model's own workflow, as the default branch defines it.

    A PR can add a workflow that uploads glowing numbers under the model's artifact
    name, or rewrite the model's workflow to do so: neither run is evidence, unless the
    policy explicitly trusts workflows changed by pull requests. `at_head` and
    `on_default` identify the workflow file's contents (git blob ids, or the bytes).
    """
    if not workflow:
        return Provenance(
            False,
            f"models.{model}.workflow is not set in .github/mlbot.yml on {default_branch}, so "
            "no workflow run can be told apart from one a pull request added.",
            f"Name the model's workflow file under models.{model}.workflow on {default_branch}.",
        )
    expected = f"{WORKFLOWS_DIR}/{workflow.removeprefix(WORKFLOWS_DIR + '/')}"
    ran = workflow_path(run)
    if ran != expected:
        return Provenance(
            False, f"run {run.id} ran {ran or 'an unknown workflow'}, not {expected}.", None
        )
    if on_default is None:
        return Provenance(
            False,
            f"{expected} does not exist on {default_branch}.",
            f"Merge {expected} into {default_branch} on its own first.",
        )
    if at_head != on_default and not trust_pr_workflows:
        return Provenance(
            False,
            f"this pull request changes {expected}, so its run's evaluation is not evidence "
            f"(the workflow on {default_branch} defines how {model} is evaluated).",
            f"Merge the workflow change on its own first, then re-run {expected} here.",
        )
    return Provenance(True, f"run {run.id} of {expected} as on {default_branch}.")


def completed_runs(gh: GitHub, full_name: str, head_sha: str, limit: int) -> list[RunInfo]:
    """The newest `limit` completed workflow runs of a commit, newest first."""
    data = gh.rest(
        "GET",
        f"/repos/{full_name}/actions/runs",
        {"head_sha": head_sha, "status": "completed", "per_page": limit},
    )
    return [run_info(r) for r in data.get("workflow_runs", [])[:limit]]


def pulls_of_run(gh: GitHub, full_name: str, event: WorkflowRunEvent) -> list[dict[str, Any]]:
    """The open PRs a run evaluated: from the payload, or (fork heads) by head branch and SHA.

    GitHub leaves `workflow_run.pull_requests` empty when the head is in a
    fork, so those are found by `owner:branch` and checked against the SHA.
    """
    run = event.workflow_run
    numbers = [p.number for p in run.pull_requests]
    if numbers:
        return [gh.rest("GET", f"/repos/{full_name}/pulls/{n}") for n in numbers]
    head_repo = run.head_repository
    owner = head_repo.owner.login if head_repo and head_repo.owner else None
    if not owner or not run.head_branch:
        return []
    listed = gh.rest(
        "GET",
        f"/repos/{full_name}/pulls",
        {"head": f"{owner}:{run.head_branch}", "state": "open", "per_page": 100},
    )
    return [p for p in listed if (p.get("head") or {}).get("sha") == run.head_sha]


def artifact_ids(gh: GitHub, full_name: str, run_id: int) -> dict[str, int]:
    """Name -> id of a run's artifacts that have not expired: one listing."""
    listed = gh.pages(f"/repos/{full_name}/actions/runs/{run_id}/artifacts", key="artifacts")
    return {str(art["name"]): int(art["id"]) for art in listed if not art.get("expired")}


def _one_by_one(*calls: Callable[[], Any]) -> list[Any]:
    return [call() for call in calls]


def run_evidence(
    gh: GitHub,
    full_name: str,
    run_id: int,
    models: Sequence[str],
    *,
    listed: Mapping[str, int] | None = None,
    gather: Callable[..., list[Any]] = _one_by_one,
) -> dict[str, RunEvidence]:
    """Per model with an evaluation artifact in the run: its parsed evidence.

    `listed`: the run's `artifact_ids`, when the caller read them already. `gather`
    runs independent reads (each artifact's download) side by side.
    """
    artifacts = artifact_ids(gh, full_name, run_id) if listed is None else listed
    wanted: list[tuple[str, str, int, str]] = []  # (model, kind, artifact id, file)
    for model in models:
        eval_id = artifacts.get(EVALUATION_ARTIFACT.format(model=model))
        if eval_id is None:
            continue
        wanted.append((model, "evaluation", eval_id, "evaluation.json"))
        for kind, artifact, filename in (
            ("scan", SCAN_ARTIFACT, "scan-evidence.json"),
            ("signature", SIGNATURE_ARTIFACT, "signature-verification.json"),
        ):
            art_id = artifacts.get(artifact.format(model=model))
            if art_id is not None:
                wanted.append((model, kind, art_id, filename))

    def load(art_id: int, filename: str) -> dict[str, Any] | Exception:
        try:
            return _load_json(gh, full_name, art_id, filename)
        except Exception as exc:  # reported as the model's problem, below
            return exc

    read = gather(*[lambda a=a, f=f: load(a, f) for _m, _k, a, f in wanted])
    out: dict[str, RunEvidence] = {}
    for (model, kind, _id, _file), got in zip(wanted, read, strict=True):
        evidence = out.setdefault(model, RunEvidence(None))
        if kind == "evaluation":
            if isinstance(got, Exception):
                evidence.problems.append(f"evaluation.json could not be read: {one_line(got)}")
            elif got.get("model") not in (None, model):
                evidence.problems.append(
                    f"evaluation.json is for model {got.get('model')!r}, not {model!r}."
                )
            elif not isinstance(got.get("candidate"), dict):
                evidence.problems.append("evaluation.json has no `candidate` object.")
            else:
                evidence.evaluation = got
        elif isinstance(got, Exception):
            evidence.problems.append(f"the {kind} evidence could not be read: {one_line(got)}")
        else:
            setattr(evidence, kind, got)
    return out


def _load_json(gh: GitHub, full_name: str, artifact_id: int, name: str) -> dict[str, Any]:
    raw = gh.read_artifact_file(full_name, artifact_id, name)
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"{name} does not hold a JSON object")
    return data


def one_line(exc: BaseException) -> str:
    """An exception as one short line for a comment."""
    return " ".join(str(exc).split())[:300]
