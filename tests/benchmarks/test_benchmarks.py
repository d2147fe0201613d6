"""The benchmark scripts, run in tiny configurations so they never rot.

Figures are printed, never asserted: these tests check that each script
runs to the end on real tools and prints what its README promises.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
    return proc


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_startup_prints_the_three_commands_and_no_heavy_import():
    out = _run("cli_startup.py", "--runs", "1").stdout
    for tool in ("mlbot", "dvc", "gto"):
        assert f"{tool} --help" in out
    assert "vs dvc" in out
    assert "target mlbot --help no slower than dvc --help:" in out
    assert "heavy ones: none" in out


def test_registry_scale_builds_checks_compares_and_times(tmp_path):
    args = ["--models", "3", "--versions", "4", "--runs", "1", "--cache-dir", str(tmp_path)]
    out = _run("registry_scale.py", *args).stdout
    assert "3 models x 4 versions" in out
    assert "(built;" in out
    assert "mlbot registry check: registry OK" in out
    assert "mlbot and gto agree on every model's latest version and stages (3 models)" in out
    assert "mlbot registry show --json" in out
    assert "gto show --json" in out
    assert "x faster than gto (target >= 10x:" in out

    again = _run("registry_scale.py", *args).stdout
    assert "(cached;" in again
    assert len(list(tmp_path.glob("mlbot-bench-registry-3x4-*"))) == 1


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _written_by_the_service(root: Path, bench, models: list[str], versions: int) -> None:
    """The benchmark's scenario, played through bot.registry.service as the CLI does."""
    from bot.config.load import parse_config, policy_for
    from bot.registry import audit, schema
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity

    config_bytes = bench.config_file(models)
    _git(root.parent, "init", "-q", "-b", "main", str(root))
    _git(root, "config", "user.name", bench.AUTHOR[0])
    _git(root, "config", "user.email", bench.AUTHOR[1])
    (root / ".github").mkdir()
    (root / ".github" / "mlbot.yml").write_bytes(config_bytes)
    (root / "registry").mkdir()
    (root / "registry" / "README.md").write_text("# Model registry\n")  # as `mlbot init` does
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "initial")
    config = parse_config(config_bytes)
    registry = Registry(
        GitStore(root),
        lambda model: policy_for(config, model, root),
        author=Identity(*bench.AUTHOR),
        repo_root=root,
    )
    actor = f"{bench.AUTHOR[0]} <{bench.AUTHOR[1]}>"
    for model in models:
        names: list[str] = []
        for action, index, stage in bench.scenario(versions):
            if action == "register":
                artifact = schema.Artifact(uri=f"s3://m/{model}", sha256="0" * 64, size=1)
                info = audit.Audit(requested_by=actor)
                names.append(
                    registry.register(model, artifact=artifact, audit_info=info).change.version
                )
            elif action == "promote":
                approvals = (bench.APPROVER,) if stage == "production" else ()
                info = audit.Audit(requested_by=actor, approved_by=approvals)
                registry.promote(model, names[index], stage, audit_info=info)
            elif action == "rollback":
                registry.rollback(model, stage, audit_info=audit.Audit(requested_by=actor))
            else:
                registry.deprecate(model, names[index], audit_info=audit.Audit(requested_by=actor))


def _observed(root: Path, models: list[str]) -> dict:
    """What a reader sees: show, each model's history and stage lists, the registry files."""
    from bot.registry.check import check
    from bot.registry.git_store import GitStore
    from bot.registry.views import history, show

    store = GitStore(root)
    head = store.head()
    stages = {}
    for model in models:
        state = store.read_model(model, head)
        stages[model] = {
            name: [s.version, *(p.version for p in s.previous)]
            for name, s in state.stages.stages.items()
        }
        stages[model]["deprecated"] = [d.version for d in state.stages.deprecated]
    keys = ("event", "version", "stage", "tag", "subject", "requested_by", "approved_by")
    return {
        "show": show(store),
        "history": {m: [{k: e[k] for k in keys} for e in history(store, m)] for m in models},
        "stages": stages,
        "files": sorted(store.list_files(head, "registry/")),
        "problems": [str(p) for p in check(store)],
    }


def test_built_repository_reads_like_one_the_registry_service_wrote(tmp_path):
    bench = load_benchmark("registry_scale")
    models, versions = bench.model_names(2), 5
    bench.build_repo(tmp_path / "built", len(models), versions, seed=1)
    _written_by_the_service(tmp_path / "live", bench, models, versions)

    built, live = _observed(tmp_path / "built", models), _observed(tmp_path / "live", models)
    assert built["problems"] == [] and live["problems"] == []
    assert built["files"] == live["files"]
    assert built["show"] == live["show"]
    assert built["stages"] == live["stages"]
    assert built["history"] == live["history"]
    # The scenario exercised every kind of event, a rollback and a deprecation included.
    kinds = {e["event"] for e in built["history"]["model-000"]}
    assert kinds == {"registration", "deregistration", "assignment", "unassignment"}


def test_contract_check_runs_the_three_checkers_and_they_agree():
    out = _run("contract_check.py", "--rows", "2000", "--runs", "1").stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line[:1].isalpha()}
    assert {"mlbot", "pandera"} <= set(rows)
    # Each way finds the same four broken columns; the old checker too, when history has it.
    assert {r[-1] for r in rows.values() if r[0] in ("mlbot", "pandera", "hand-written")} == {"4"}
