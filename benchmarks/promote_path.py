"""GitHub API calls per /promote, and the time from the comment's webhook to the registry commit.

Runs the real bot (`create_app` on loopback, as a GitHub App) against the
GitHub simulator with the e2e harness's model repository. A PR with its CI
and an owner's approval is in place; then `/promote` is commented, and:

- calls: every request the bot sent for that comment, from the simulator's log, by
  operation, beside the minimum derived below;
- time: from the comment (its webhook is sent at once) to the default branch moving,
  with 100 ms of latency injected into every API call, beside the same with none.

The minimum, one call per thing that cannot be known without asking GitHub:
  1  react 👀 to the comment
  1  the commenter's permission
  1  the pull request (head SHA, base, fork, author)
  1  the default branch's head
  1  its tree (recursive: config, CODEOWNERS, registry files in one listing)
  2  blobs: .github/mlbot.yml and CODEOWNERS
  1  blob: the model's stages.yaml
  1  the model's tags (matching-refs)
  1  the model's registry commits (tag dates and targets)
  1  the PR's completed workflow runs for its head
  1  that run's artifacts
  1  the evaluation artifact (download; GitHub redirects to blob storage, +1 there)
  1  the PR's reviews
  1  the members of a team that owns the registry
  1  check runs of the head commit
  1  create the tree (contents inline)
  1  create the commit
  1  move the branch (non-forced)
  1  create the annotated tag object, 1 its ref
  1  post the reply
 = 23 API calls (24 requests counting the artifact's blob-storage redirect target).

Targets: at most 1.5x the minimum, under 2 s with 100 ms per call.
"""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MINIMUM = 23
LATENCY = 0.100
RUNS = 3


def one_promote(tmp: Path, template: Path, latency: float) -> tuple[int, float, float, list[str]]:
    from bot.simulator import Faults, GitHubSimulator
    from tests.e2e.conftest import build_world

    faults = Faults()
    started: list[GitHubSimulator] = []

    def make_sim(**kwargs: object) -> GitHubSimulator:
        sim = GitHubSimulator(tmp / f"sim-{len(started)}", **kwargs).start()  # type: ignore[arg-type]
        started.append(sim)
        return sim

    gen = build_world(make_sim, tmp, template, faults=faults)
    world = next(gen)
    try:
        pr = world.open_pr()
        world.review(pr, user="alice")
        world.settle()
        before = world.main_sha()
        faults.latency_per_call = latency
        first = len(world.sim.requests)
        t0 = time.perf_counter()
        world.comment(pr, "/promote")
        store = world.sim.repo(world.repo).store
        while store.ref_sha("heads/main") == before:
            time.sleep(0.002)
        to_commit = time.perf_counter() - t0
        while not world.command_replies(pr):
            time.sleep(0.002)
        to_reply = time.perf_counter() - t0
        world.settle()
        faults.latency_per_call = 0.0
        mine = [
            r
            for r in world.sim.requests[first:]
            if r.login == "mlbot[bot]" or r.path.startswith("/_sim/")
        ]
        ops = [r.operation_id or r.path.split("/")[1] for r in mine]
        assert "Promoted cancer" in world.last_reply(pr), world.last_reply(pr)
        return len(mine), to_commit, to_reply, ops
    finally:
        for _ in gen:
            pass
        for sim in started:
            sim.stop()
        for sim in started:
            sim.assert_valid()


def main() -> int:
    from tests.e2e.conftest import make_registry_template

    with tempfile.TemporaryDirectory(prefix="mlbot-bench-") as raw:
        tmp = Path(raw)
        template = make_registry_template(tmp / "template.git")
        results = {}
        for latency in (0.0, LATENCY):
            runs = []
            for i in range(RUNS):
                run_dir = tmp / f"run-{latency}-{i}"
                run_dir.mkdir()
                runs.append(one_promote(run_dir, template, latency))
            results[latency] = runs
    calls, _, _, ops = results[LATENCY][-1]
    print("GitHub API calls for one /promote (from the simulator's request log):")
    for op, n in sorted(collections.Counter(ops).items()):
        print(f"  {n:3d}  {op}")
    print(
        f"  measured: {calls} requests   derived minimum: {MINIMUM + 1} requests "
        f"({MINIMUM} API calls + the artifact redirect)   ratio {calls / (MINIMUM + 1):.2f}x "
        "(target <= 1.5x)"
    )
    print()
    print("Comment webhook -> registry commit (median of 3; reply time after):")
    for latency, runs in results.items():
        commit = sorted(r[1] for r in runs)[len(runs) // 2]
        reply = sorted(r[2] for r in runs)[len(runs) // 2]
        label = f"{latency * 1000:.0f} ms per call"
        print(f"  {label:>16}: commit {commit:.2f} s, reply {reply:.2f} s")
    commit_latency = sorted(r[1] for r in results[LATENCY])[RUNS // 2]
    ok = calls <= 1.5 * (MINIMUM + 1) and commit_latency < 2.0
    print()
    verdict = "met" if ok else "NOT met"
    print(f"targets: calls <= 1.5x minimum, commit < 2 s at 100 ms per call: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
