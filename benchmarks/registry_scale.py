"""Registry at scale: `mlbot registry show --json` against `gto show --json` on one repo.

Builds a model repository of MODELS x VERSIONS registered versions with
promotions to staging and production, a rollback and a deprecation per
model, in exactly the layout and tag scheme mlbot writes: every file, commit
message and tag comes from `bot.registry.plan` applied to an in-memory
`ModelState`, the same functions `bot.registry.service.Registry` calls. Only
the writing differs: one `git fast-import` stream instead of one
`mlbot registry ...` process per event (10,000 of those would take an hour).

Then, on that repository and in the same run:
  1. `mlbot registry check` must print "registry OK";
  2. `mlbot registry show --json` and `gto show --json` must agree on every
     model's latest version and stages;
  3. both are timed (one warm-up each, then the median of --runs runs,
     interleaved) and the ratio is printed. Target: mlbot >= 10x faster.

The built repository is cached under the temp dir, keyed by the parameters
and by the registry code that shapes it, so a re-run skips the build.

    .venv/bin/python benchmarks/registry_scale.py                  # 200 x 50
    .venv/bin/python benchmarks/registry_scale.py --models 3 --versions 4 --runs 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bot.config.load import parse_config
from bot.config.schema import CONFIG_PATH
from bot.registry import audit, plan, schema, semver, tags
from bot.registry.state import ModelState

BIN = Path(sys.executable).parent
TARGET_SPEEDUP = 10.0
# Bump when the scenario below changes, so cached repositories are rebuilt.
SCENARIO_REVISION = "1"
# The code that shapes the repository or judges it: a change to any of these
# invalidates the cache as well (the check runs once per built repository).
SHAPING_MODULES = [
    f"bot.registry.{name}" for name in ("plan", "schema", "tags", "audit", "semver", "state")
] + ["bot.registry.check", "bot.registry.git_store"]
AUTHOR = ("Bench Bot", "bench@example.com")
APPROVER = "owner@example.com"
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


# -- the scenario: which registry events each model goes through ------------


def scenario(versions: int) -> Iterator[tuple[str, int | None, str | None]]:
    """(action, version index, stage) for one model, in order.

    Every version is registered; every other one goes to staging, every
    fourth of those on to production; at the end the latest goes through
    staging to production and is rolled back, and an old version that never
    ran anywhere is deprecated.
    """
    for i in range(versions):
        yield "register", i, None
        if i % 2 == 0 and i < versions - 1:
            yield "promote", i, "staging"
            if i % 8 == 0:
                yield "promote", i, "production"
    last = versions - 1
    yield "promote", last, "staging"
    if last > 0:
        yield "promote", last, "production"
        yield "rollback", None, "production"
    if versions >= 3:
        yield "deprecate", 1, None


# -- writing the repository with git fast-import -----------------------------


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def _ident(when: dt.datetime) -> bytes:
    return f"{AUTHOR[0]} <{AUTHOR[1]}> {int(when.timestamp())} +0000".encode()


class FastImport:
    """One `git fast-import` process: commits on main, annotated tags, real commit ids.

    A promotion's tag and its commit message name the registration commit by
    its id, so each commit's id is asked back (`get-mark`) as it is written.
    """

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            ["git", "-C", str(root), "fast-import", "--quiet", "--done"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.marks = 0
        self.tags = 0

    def commit(self, message: str, files: dict[str, bytes], when: dt.datetime) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.marks += 1
        ident = _ident(when)
        chunk = b"commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\n" % (
            self.marks,
            ident,
            ident,
        )
        chunk += _data(message.encode())
        for path, content in files.items():
            chunk += b"M 100644 inline %s\n%s" % (path.encode(), _data(content))
        chunk += b"\nget-mark :%d\n" % self.marks
        self.proc.stdin.write(chunk)
        self.proc.stdin.flush()
        sha = self.proc.stdout.readline().decode().strip()
        if len(sha) != 40:
            raise SystemExit(f"git fast-import did not return a commit id (got {sha!r})")
        return sha

    def tag(self, name: str, target: str, when: dt.datetime, message: str) -> None:
        assert self.proc.stdin is not None
        self.tags += 1
        self.proc.stdin.write(
            b"tag %s\nfrom %s\ntagger %s\n" % (name.encode(), target.encode(), _ident(when))
            + _data(message.encode())
        )

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"done\n")
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise SystemExit("git fast-import failed")


# -- planning every event with the registry's own code ------------------------


class Builder:
    """Plans every event with bot.registry.plan and writes it as GitStore.write would."""

    def __init__(self, out: FastImport, seed: int) -> None:
        self.out = out
        self.rng = random.Random(seed)
        self.clock = EPOCH

    def _record(self, model: str, version: str, now: dt.datetime) -> schema.VersionRecord:
        rng = self.rng
        artifact = f"{model}/{version}/model.pkl"
        return schema.VersionRecord(
            model=model,
            version=version,
            artifact=schema.Artifact(
                uri=f"s3://models/{artifact}",
                sha256=hashlib.sha256(artifact.encode()).hexdigest(),
                size=rng.randint(10_000, 50_000_000),
            ),
            metrics={
                "accuracy": round(rng.uniform(0.8, 0.95), 4),
                "f1": round(rng.uniform(0.7, 0.9), 4),
                "latency_ms": round(rng.uniform(5, 40), 1),
            },
            params={"n_estimators": rng.choice([100, 200, 400]), "max_depth": rng.randint(3, 12)},
            lineage=schema.Lineage(
                commit=f"{rng.getrandbits(160):040x}",
                data={"data/train.csv": f"{rng.getrandbits(128):032x}"},
                mlflow_run_id=f"{rng.getrandbits(128):032x}",
                ci_run_url=f"https://github.com/acme/models/actions/runs/{rng.randint(1, 10**9)}",
            ),
            created_at=now,
            created_by=f"{AUTHOR[0]} <{AUTHOR[1]}>",
        )

    def apply(self, state: ModelState, change: plan.Change, now: dt.datetime) -> None:
        """GitStore.write into the import stream: one commit, its tags; then the new state."""
        commit = self.out.commit(change.message, change.files, now)
        for spec in change.tags:
            target = commit if spec.target == plan.NEW_COMMIT else spec.target
            self.out.tag(spec.name, target, spec.tagged_at, spec.message)
            ref = tags.TagRef(spec.name, target, spec.tagged_at, spec.message)
            event = tags.parse(ref)
            if event is None or event.model != state.model:
                raise AssertionError(f"plan wrote a tag mlbot cannot read back: {spec.name}")
            state.events.append(event)
        state.head = commit
        for path, content in change.files.items():
            if path == schema.stages_path(state.model):
                # Read back as the git store reads it, so the next plan sees what a reader would.
                state.stages = schema.parse_file(path, content, schema.StagesFile)
            elif change.action == "register":
                state.versions.append(change.version)
                state.versions.sort(key=semver.sort_key)
        last = max(spec.tagged_at for spec in change.tags)
        self.clock = max(self.clock, last) + dt.timedelta(seconds=1)

    def run_model(self, name: str, versions: int) -> None:
        records: dict[str, schema.VersionRecord] = {}
        # The plans validate the record a stage change points at: read back from memory.
        state = ModelState(name, None, [], None, [], records.__getitem__)
        names: list[str] = []  # version names by index
        actor = f"{AUTHOR[0]} <{AUTHOR[1]}>"
        for action, index, stage in scenario(versions):
            now = self.clock
            if action == "register":
                version = plan.choose_version(state, None, "minor")
                names.append(version)
                info = audit.Audit(requested_by=actor, evidence=(f"ci-run-{self.out.marks}",))
                records[version] = self._record(name, version, now)
                change = plan.plan_register(state, records[version], info, now)
            elif action == "promote":
                approvals = (APPROVER,) if stage == "production" else ()
                info = audit.Audit(requested_by=actor, approved_by=approvals, refs=("#1",))
                change = plan.plan_promote(state, names[index], stage, info, now)
            elif action == "rollback":
                info = audit.Audit(requested_by=actor, reason="latency regression")
                change = plan.plan_rollback(state, stage, None, info, now)
            else:
                info = audit.Audit(requested_by=actor, reason="superseded")
                change = plan.plan_deprecate(state, names[index], info, now)
            self.apply(state, change, now)


def model_names(count: int) -> list[str]:
    return [f"model-{i:03d}" for i in range(count)]


def config_file(models: list[str]) -> bytes:
    lines = ["schema: mlbot/v1", "policy: default", "models:"]
    lines += [f"  {m}:\n    path: models/{m}" for m in models]
    content = ("\n".join(lines) + "\n").encode()
    parse_config(content)  # the scaffold must be one mlbot accepts
    return content


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"git {args[0]} failed in {root}: {proc.stderr.decode().strip()}")
    return proc.stdout.decode()


def build_repo(root: Path, models: int, versions: int, seed: int) -> dict[str, int]:
    names = model_names(models)
    git(root.parent, "init", "-q", "-b", "main", str(root))
    for key, value in [("user.name", AUTHOR[0]), ("user.email", AUTHOR[1])]:
        git(root, "config", key, value)
    out = FastImport(root)
    initial = {
        "README.md": b"A model repository built by benchmarks/registry_scale.py.\n",
        CONFIG_PATH: config_file(names),
        "registry/README.md": b"# Model registry\n\nManaged by mlbot.\n",
    }
    out.commit("initial: set up mlbot\n", initial, EPOCH - dt.timedelta(days=1))
    builder = Builder(out, seed)
    for name in names:
        builder.run_model(name, versions)
    out.close()
    # As a clone has them: a checked-out branch, and refs packed in one file.
    git(root, "reset", "-q", "--hard", "main")
    git(root, "pack-refs", "--all")
    return {"commits": out.marks, "tags": out.tags}


def cache_key(models: int, versions: int, seed: int) -> str:
    h = hashlib.sha256(f"{SCENARIO_REVISION}:{models}:{versions}:{seed}".encode())
    h.update(Path(__file__).read_bytes())
    for name in SHAPING_MODULES:
        spec = importlib.util.find_spec(name)
        h.update(Path(spec.origin).read_bytes() if spec and spec.origin else name.encode())
    return h.hexdigest()[:12]


def registry_check(repo: Path) -> tuple[str, float]:
    """`mlbot registry check` on the repo: its verdict (last line) and how long it took."""
    start = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "mlbot"), "registry", "check", "--repo", str(repo)],
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    if proc.returncode != 0:
        shown = "\n  ".join(lines[:20])
        raise SystemExit(f"mlbot registry check refused {repo} ({proc.returncode}):\n  {shown}")
    return (lines[-1] if lines else "(no output)"), took


def cached_repo(cache_dir: Path, models: int, versions: int, seed: int) -> tuple[Path, dict]:
    """The built and checked repository, built now unless a cached one fits.

    Building writes into a scratch folder renamed into place once `mlbot
    registry check` accepted it, so an interrupted build is never reused.
    """
    key = cache_key(models, versions, seed)
    root = cache_dir / f"mlbot-bench-registry-{models}x{versions}-{key}"
    stamp = root / ".git" / "mlbot-bench.json"
    if stamp.is_file():
        return root, {**json.loads(stamp.read_text()), "cached": True}
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=root.name + ".partial-", dir=cache_dir))
    try:
        start = time.perf_counter()
        info = build_repo(scratch / "repo", models, versions, seed)
        info["build_s"] = time.perf_counter() - start
        info["check"], info["check_s"] = registry_check(scratch / "repo")
        (scratch / "repo" / ".git" / "mlbot-bench.json").write_text(json.dumps(info))
        shutil.rmtree(root, ignore_errors=True)
        os.replace(scratch / "repo", root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return root, {**info, "cached": False}


# -- measuring ---------------------------------------------------------------


def run(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return took, proc


def compare(mlbot_show: dict, gto_show: dict) -> list[str]:
    """Every model on which the two readers disagree, in words."""
    ours = mlbot_show["models"]
    problems = []
    for name in sorted(set(ours) | set(gto_show)):
        if name not in ours or name not in gto_show:
            where = "mlbot" if name in ours else "gto"
            problems.append(f"{name}: only {where} lists it")
            continue
        mine, theirs = ours[name], gto_show[name]
        if mine["latest"] != theirs.get("version"):
            problems.append(f"{name}: latest {mine['latest']} (mlbot) vs {theirs.get('version')}")
        if mine["stages"] != theirs.get("stage", {}):
            problems.append(f"{name}: stages {mine['stages']} (mlbot) vs {theirs.get('stage')}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=50, help="versions per model")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of mlbot show")
    parser.add_argument(
        "--gto-runs", type=int, default=1, help="timed runs of gto show (minutes each at 200x50)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()), help="where repos are kept"
    )
    parser.add_argument("--rebuild", action="store_true", help="ignore a cached repository")
    args = parser.parse_args(argv)
    if min(args.models, args.versions, args.runs, args.gto_runs) < 1:
        parser.error("--models, --versions, --runs and --gto-runs must be at least 1")

    if args.rebuild:
        for old in args.cache_dir.glob(f"mlbot-bench-registry-{args.models}x{args.versions}-*"):
            shutil.rmtree(old, ignore_errors=True)
    repo, info = cached_repo(args.cache_dir, args.models, args.versions, args.seed)
    how = "cached" if info["cached"] else "built"
    print(
        f"registry: {args.models} models x {args.versions} versions, {info['commits']} commits, "
        f"{info['tags']} tags ({how}; build {info['build_s']:.1f} s) in {repo}"
    )
    print(f"mlbot registry check: {info['check']} ({info['check_s']:.1f} s, run once per build)")

    mlbot_cmd = [str(BIN / "mlbot"), "registry", "show", "--json", "--repo", str(repo)]
    gto_cmd = [str(BIN / "gto"), "show", "--json", "--repo", str(repo)]
    # mlbot's first run is a warm-up. gto's first run is timed: at this size it takes
    # minutes, on which a warm page cache has no visible effect.
    ours = json.loads(run(mlbot_cmd)[1].stdout)
    gto_first, proc = run(gto_cmd)
    problems = compare(ours, json.loads(proc.stdout))
    if problems:
        print(f"mlbot and gto DISAGREE on {len(problems)} of {args.models} model(s):")
        for line in problems[:20]:
            print(f"  {line}")
        return 1
    print(f"mlbot and gto agree on every model's latest version and stages ({args.models} models)")

    times: dict[str, list[float]] = {"mlbot registry show --json": [], "gto show --json": []}
    times["gto show --json"].append(gto_first)
    for i in range(max(args.runs, args.gto_runs - 1)):  # interleaved, so drift hits both alike
        if i < args.runs:
            times["mlbot registry show --json"].append(run(mlbot_cmd)[0])
        if i < args.gto_runs - 1:
            times["gto show --json"].append(run(gto_cmd)[0])
    medians = {label: statistics.median(values) for label, values in times.items()}
    mlbot_s, gto_s = medians.values()
    width = max(map(len, times))
    print("median wall time (mlbot after one warm-up run; gto's first run is timed):")
    for label, median in medians.items():
        spread = ", ".join(f"{t:.3f}" for t in times[label])
        print(f"  {label:<{width}}  {median:8.3f} s   ({len(times[label])} run(s): {spread})")
    speedup = gto_s / mlbot_s
    met = "met" if speedup >= TARGET_SPEEDUP else "MISSED"
    print(f"mlbot is {speedup:.1f}x faster than gto (target >= {TARGET_SPEEDUP:.0f}x: {met})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
