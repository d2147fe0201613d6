"""Run a composite action's shell steps the way the GitHub runner does, on this machine.

Each `run:` step is written to a script file and run with `bash --noprofile --norc -eo pipefail`
in the step's working directory, with `env:` values interpolated from the `inputs`, `steps`,
`github`, `runner` and `env` contexts, and with fresh `$GITHUB_OUTPUT` and
`$GITHUB_STEP_SUMMARY` files per step plus shared `$GITHUB_ENV` and `$GITHUB_PATH` files whose
contents reach the later steps. `uses:` steps are not run (they fetch code from the network):
they are listed in `ActionRun.skipped` with the reason. A caller can also skip a named `run:`
step that needs a binary this machine cannot have, and `seed` the outputs it would have set.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.actions.expressions import condition, interpolate, to_text


@dataclass
class StepRecord:
    name: str
    id: str | None
    conclusion: str  # success, failure or skipped
    reason: str = ""
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None


@dataclass
class ActionRun:
    outputs: dict[str, str]
    steps: list[StepRecord]
    summary: str
    env: dict[str, str]
    path: list[str]
    status: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def step(self, name_or_id: str) -> StepRecord:
        for record in self.steps:
            if name_or_id in (record.name, record.id):
                return record
        raise KeyError(name_or_id)

    @property
    def log(self) -> str:
        return "\n".join(f"[{s.name}] {s.conclusion}\n{s.stdout}{s.stderr}" for s in self.steps)


def run_bash_step(
    script: Path, *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `script` as the runner runs a `shell: bash` step, its output captured."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def read_key_values(path: Path) -> dict[str, str]:
    """Parse a `$GITHUB_OUTPUT`/`$GITHUB_ENV` file: `k=v` lines and `k<<DELIM` heredocs."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc:
            name, delimiter = heredoc[1], heredoc[2]
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"{path.name}: unterminated {name}<<{delimiter}")
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"{path.name}: malformed line {line!r}")
    return values


def load_action(action_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))


def run_action(
    action_dir: Path,
    workspace: Path,
    inputs: dict[str, str] | None = None,
    *,
    env: dict[str, str] | None = None,
    skip: dict[str, str] | None = None,
    seed: dict[str, dict[str, str]] | None = None,
    temp: Path | None = None,
    github: dict[str, Any] | None = None,
) -> ActionRun:
    """Run `action_dir/action.yml` in `workspace`.

    `skip` maps a step's id or name to the reason it cannot run here; `seed` maps a step id to
    the outputs that step would have written. Unknown input names are an error, as on GitHub
    (which warns); required inputs without a value are an error.
    """
    action = load_action(action_dir)
    declared = action.get("inputs") or {}
    inputs = dict(inputs or {})
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"{action_dir.name}: unknown inputs {sorted(unknown)}")
    temp = temp or workspace.parent / "runner-temp"
    temp.mkdir(parents=True, exist_ok=True)
    files = temp / "_runner_files"
    files.mkdir(exist_ok=True)
    github_ctx: dict[str, Any] = {
        "token": "test-token-not-a-secret",
        "repository": "acme/models",
        "repository_owner": "acme",
        "server_url": "https://github.com",
        "api_url": "https://api.github.com",
        "run_id": "4242",
        "run_attempt": "1",
        "sha": "0" * 40,
        "ref": "refs/pull/7/merge",
        "event_name": "pull_request",
        "workspace": str(workspace),
        "action_path": str(action_dir),
        "job": "mlbot",
        "workflow": "mlbot",
    }
    github_ctx.update(github or {})
    context: dict[str, Any] = {
        "github": github_ctx,
        "runner": {"os": "Linux", "arch": "X64", "temp": str(temp), "name": "local"},
        "env": {},
        "steps": {},
        "job": {"status": "success"},
    }
    resolved_inputs: dict[str, str] = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in inputs:
            resolved_inputs[name] = inputs[name]
        elif "default" in spec:
            resolved_inputs[name] = interpolate(spec["default"], context)
        elif spec.get("required"):
            raise ValueError(f"{action_dir.name}: input {name!r} is required")
        else:
            resolved_inputs[name] = ""
    context["inputs"] = resolved_inputs

    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(temp)),
        # The steps run the code under test (a worktree's, with PYTHONPATH), not an installed copy.
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(action_dir),
        "GITHUB_REPOSITORY": github_ctx["repository"],
        "GITHUB_REPOSITORY_OWNER": github_ctx["repository_owner"],
        "GITHUB_SERVER_URL": github_ctx["server_url"],
        "GITHUB_API_URL": github_ctx["api_url"],
        "GITHUB_RUN_ID": github_ctx["run_id"],
        "GITHUB_RUN_ATTEMPT": github_ctx["run_attempt"],
        "GITHUB_SHA": github_ctx["sha"],
        "GITHUB_REF": github_ctx["ref"],
        "GITHUB_EVENT_NAME": github_ctx["event_name"],
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "RUNNER_TEMP": str(temp),
    }
    base_env.update(env or {})
    env_file, path_file = files / "env", files / "path"
    env_file.touch()
    path_file.touch()
    skip = skip or {}
    seed = seed or {}
    records: list[StepRecord] = []
    summaries: list[str] = []
    skipped: list[tuple[str, str]] = []
    status = "success"

    for index, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id")
        name = step.get("name") or step_id or f"step {index}"
        context["env"] = {**base_env, **read_key_values(env_file)}
        if not condition(step.get("if"), context, status):
            records.append(StepRecord(name, step_id, "skipped", "its `if:` is false"))
            if step_id:  # GitHub lists a skipped step too, with no outputs
                context["steps"][step_id] = {
                    "outputs": {},
                    "outcome": "skipped",
                    "conclusion": "skipped",
                }
            continue
        reason = skip.get(step_id or "") or skip.get(name)
        if "uses" in step and not reason:
            reason = f"`uses: {step['uses']}` fetches code from the network"
        if reason:
            skipped.append((name, reason))
            records.append(StepRecord(name, step_id, "skipped", reason))
            if step_id:
                context["steps"][step_id] = {
                    "outputs": dict(seed.get(step_id, {})),
                    "outcome": "success",
                    "conclusion": "success",
                }
            continue
        output_file, summary_file = files / f"output_{index}", files / f"summary_{index}"
        output_file.write_text("", encoding="utf-8")
        summary_file.write_text("", encoding="utf-8")
        script = files / f"step_{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        extra_path = [p for p in path_file.read_text(encoding="utf-8").splitlines() if p]
        step_env = {**base_env, **read_key_values(env_file)}
        step_env.update({k: interpolate(v, context) for k, v in (step.get("env") or {}).items()})
        step_env["PATH"] = os.pathsep.join([*reversed(extra_path), step_env["PATH"]])
        step_env.update(
            GITHUB_OUTPUT=str(output_file),
            GITHUB_STEP_SUMMARY=str(summary_file),
            GITHUB_ENV=str(env_file),
            GITHUB_PATH=str(path_file),
        )
        cwd = workspace / interpolate(step.get("working-directory", "."), context)
        shell = step.get("shell")
        if shell != "bash":
            raise ValueError(f"{name}: composite run steps must say `shell: bash`, got {shell!r}")
        proc = run_bash_step(script, cwd=cwd, env=step_env, timeout=900)
        conclusion = "success" if proc.returncode == 0 else "failure"
        records.append(
            StepRecord(name, step_id, conclusion, "", proc.stdout, proc.stderr, proc.returncode)
        )
        summaries.append(summary_file.read_text(encoding="utf-8"))
        if step_id:
            context["steps"][step_id] = {
                "outputs": read_key_values(output_file),
                "outcome": conclusion,
                "conclusion": conclusion,
            }
        if conclusion == "failure" and not step.get("continue-on-error"):
            status = "failure"
    context["env"] = {**base_env, **read_key_values(env_file)}
    outputs = {
        name: to_text(interpolate(spec.get("value", ""), context))
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(
        outputs=outputs,
        steps=records,
        summary="".join(summaries),
        env=read_key_values(env_file),
        path=[p for p in path_file.read_text(encoding="utf-8").splitlines() if p],
        status=status,
        skipped=skipped,
        step_outputs={k: v["outputs"] for k, v in context["steps"].items()},
    )
