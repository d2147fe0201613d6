"""Which workflow runs may be a model's evidence: its own workflow, as the default branch has it."""

from __future__ import annotations

from bot.chatops.run_evidence import Provenance, RunInfo, provenance

WORKFLOW = b"name: mlbot\non: pull_request\n"


def run(path: str | None = ".github/workflows/mlbot.yml") -> RunInfo:
    return RunInfo(7, "a" * 40, None, "mlbot", path, "success", "pull_request")


def judge(r: RunInfo, workflow: str | None = "mlbot.yml", **kw) -> Provenance:
    files = {"at_head": WORKFLOW, "on_default": WORKFLOW} | kw
    return provenance(r, "cancer", workflow, default_branch="main", **files)


def test_the_models_own_unchanged_workflow_is_evidence() -> None:
    assert judge(run()).trusted
    assert judge(run(".github/workflows/mlbot.yml@refs/heads/main")).trusted  # reusable form


def test_another_workflow_or_none_configured_is_never_evidence() -> None:
    other = judge(run(".github/workflows/evil.yml"))
    assert not other.trusted and "evil.yml" in other.reason
    unnamed = judge(run(), workflow=None)
    assert not unnamed.trusted and "models.cancer.workflow is not set" in unnamed.reason
    assert unnamed.fix and "models.cancer.workflow" in unnamed.fix


def test_a_workflow_the_pr_changed_is_not_evidence_unless_the_policy_trusts_it() -> None:
    changed = judge(run(), at_head=WORKFLOW + b"  # and upload glowing numbers\n")
    assert not changed.trusted and "changes .github/workflows/mlbot.yml" in changed.reason
    assert changed.fix and "on its own first" in changed.fix
    assert judge(run(), at_head=b"other", trust_pr_workflows=True).trusted
    missing = judge(run(), on_default=None)
    assert not missing.trusted and "does not exist on main" in missing.reason
