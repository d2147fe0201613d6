"""Every `uses:` resolves, every third-party action is pinned, inputs reach shells only by env."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from bot import __version__
from tests.actions.layout import (
    ACTION_FILES,
    ACTIONS,
    ROOT,
    SIDE_CHECKOUT,
    STARTER_WORKFLOWS,
    WORKFLOWS,
    load,
    steps_of,
)

ALL_FILES = [*ACTION_FILES, *WORKFLOWS, *STARTER_WORKFLOWS]
PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+(?P<version>v\d+\.\d+\.\d+)\s*$"
)
REUSABLE = re.compile(
    r"^(?P<repo>[\w.-]+/[\w.-]+)/\.github/workflows/(?P<file>[\w.-]+)@(?P<ref>.+)$"
)
EXPRESSION = re.compile(r"\$\{\{")


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def all_uses() -> list[tuple[Path, str, dict, list[dict]]]:
    found = []
    for path in ALL_FILES:
        data = load(path)
        for _job, steps in steps_of(path):
            for step in steps:
                if "uses" in step:
                    found.append((path, step["uses"], step, steps))
        for job in (data.get("jobs") or {}).values():
            if "uses" in job:
                found.append((path, job["uses"], job, []))
    return found


def test_every_third_party_action_is_pinned_to_a_commit_with_its_version() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in ALL_FILES:
        for line in path.read_text().splitlines():
            if not re.match(r"^\s*(?:-\s+)?uses:", line):
                continue
            target = line.split("uses:", 1)[1].split("#")[0].strip()
            if target.startswith("./") or REUSABLE.match(target):
                continue
            match = PINNED.match(line)
            assert match, f"{path.relative_to(ROOT)}: not pinned to a SHA with a version: {line}"
            pins.setdefault(match["action"], set()).add((match["sha"], match["version"]))
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact"} <= set(pins)
    # One action, one pin: an upgrade must touch every file at once.
    assert {a: p for a, p in pins.items() if len(p) > 1} == {}


def test_local_actions_resolve_in_the_side_checkout_of_mlbot() -> None:
    local = [(p, u, s, steps) for p, u, s, steps in all_uses() if u.startswith("./")]
    assert local, "the reusable workflows use mlbot's actions"
    for path, uses, step, steps in local:
        where = path.relative_to(ROOT)
        # `./` resolves in the caller's workspace: only a side checkout of mlbot is safe.
        assert path in WORKFLOWS, f"{where}: a composite action cannot `uses: ./` ({uses})"
        prefix = f"./{SIDE_CHECKOUT}/"
        assert uses.startswith(prefix), f"{where}: {uses} is not in the mlbot checkout"
        target = ROOT / uses.removeprefix(prefix)
        assert (target / "action.yml").is_file(), f"{where}: {uses} does not exist"
        checkouts = [
            s
            for s in steps[: steps.index(step)]
            if s.get("uses", "").startswith("actions/checkout@")
            and s.get("with", {}).get("path") == SIDE_CHECKOUT
        ]
        assert checkouts, f"{where}: {uses} is used before mlbot is checked out"
        with_ = checkouts[-1]["with"]
        assert with_["repository"] == "${{ inputs.mlbot-repository }}"
        assert with_["ref"] == "${{ inputs.mlbot-ref }}"
        declared = load(target / "action.yml").get("inputs") or {}
        given = set(step.get("with") or {})
        assert given <= set(declared), f"{where}: {uses} has no input {given - set(declared)}"
        required = {n for n, spec in declared.items() if (spec or {}).get("required")}
        assert required <= given, f"{where}: {uses} needs {required - given}"


def test_starter_workflows_call_existing_reusable_workflows_with_their_inputs() -> None:
    calls = [(p, u, job) for p, u, job, _ in all_uses() if REUSABLE.match(u)]
    assert {p for p, _, _ in calls} == set(STARTER_WORKFLOWS)
    for path, uses, job in calls:
        match = REUSABLE.match(uses)
        assert match
        target = ROOT / ".github" / "workflows" / match["file"]
        assert target.is_file(), f"{path.name}: {uses} does not exist"
        call = load(target)["on"]["workflow_call"]
        declared = call.get("inputs") or {}
        given = job.get("with") or {}
        assert set(given) <= set(declared), f"{path.name}: unknown {set(given) - set(declared)}"
        required = {n for n, spec in declared.items() if spec.get("required")}
        assert required <= set(given), f"{path.name}: missing {required - set(given)}"
        # The actions are fetched at mlbot-ref, so it must be the ref the workflow is called at.
        assert given["mlbot-repository"] == match["repo"]
        assert given["mlbot-ref"] == match["ref"] == f"v{__version__}"


@pytest.mark.parametrize("path", ALL_FILES, ids=ids(ALL_FILES))
def test_no_expression_inside_a_shell_script(path: Path) -> None:
    for job, steps in steps_of(path):
        for step in steps:
            if "run" in step:
                assert not EXPRESSION.search(step["run"]), (
                    f"{path.relative_to(ROOT)} ({job}): `${{{{ }}}}` in run:; pass it by env:"
                )


@pytest.mark.parametrize("path", ACTION_FILES, ids=ids(ACTION_FILES))
def test_action_metadata_is_complete(path: Path) -> None:
    action = load(path)
    assert action["name"] and action["description"]
    assert action["branding"]["icon"] and action["branding"]["color"]
    assert action["runs"]["using"] == "composite"
    for kind in ("inputs", "outputs"):
        for name, spec in (action.get(kind) or {}).items():
            assert spec.get("description"), f"{kind} {name} has no description"
    for name, spec in (action.get("outputs") or {}).items():
        assert "${{ steps." in spec["value"], f"output {name} is not wired to a step"
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash"
            # Scripts run from the action's own folder, never from the caller's workspace.
            script = re.match(r'^"\$GITHUB_ACTION_PATH/([^"]+)"', step["run"])
            assert script, f"{step['name']}: runs no script of the action"
            target = path.parent / script[1]
            assert target.is_file() and os.access(target, os.X_OK), target


def test_every_action_folder_is_known() -> None:
    names = {d.name for d in ACTIONS}
    assert names == {"setup", "validate", "train", "evaluate", "scan", "sign", "drift"}


@pytest.mark.parametrize(
    "path", [*WORKFLOWS, *STARTER_WORKFLOWS], ids=ids([*WORKFLOWS, *STARTER_WORKFLOWS])
)
def test_least_permissions(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") in ({}, {"contents": "read"}), "top-level permissions"
    for name, job in workflow["jobs"].items():
        if workflow.get("permissions") == {}:
            assert "permissions" in job, f"job {name} must say what it needs"
        for scope, level in (job.get("permissions") or {}).items():
            assert level in ("read", "write"), (name, scope)
            assert scope != "contents" or level == "read" or "retrain" in path.name, name


def test_pr_workflow_lets_users_choose_the_runner() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "mlbot-pr.yml")
    assert "runs-on" in workflow["on"]["workflow_call"]["inputs"]
    assert workflow["jobs"]["evaluate"]["runs-on"] == "${{ inputs.runs-on }}"
    # Only the signing job can mint an OIDC token; only the scan job writes code scanning.
    jobs = workflow["jobs"]
    assert [n for n, j in jobs.items() if j["permissions"].get("id-token")] == ["sign"]
    assert [n for n, j in jobs.items() if j["permissions"].get("security-events")] == ["scan"]


@pytest.mark.parametrize("path", STARTER_WORKFLOWS, ids=ids(STARTER_WORKFLOWS))
def test_starter_workflow_has_properties(path: Path) -> None:
    props = json.loads(path.with_suffix(".properties.json").read_text())
    assert props["name"] and props["description"]
    assert (path.parent / f"{props['iconName']}.svg").is_file()
    assert isinstance(props["categories"], list) and props["categories"]
    for pattern in props.get("filePatterns", []):
        assert re.search(pattern, ".github/mlbot.yml")


def test_ci_runs_make_test_on_python_311_and_node() -> None:
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    steps = ci["jobs"]["test"]["steps"]
    assert any(s.get("run") == "make test" for s in steps)
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    assert any(s.get("uses", "").startswith("actions/setup-node@") for s in steps)
