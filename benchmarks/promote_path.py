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
  2  .github/mlbot.yml (the contents API at the head, beside the tree) and CODEOWNERS
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

Targets: at most 1.5x the minimum, at most 1.2 s with 100 ms per call; the time is
printed beside the same /promote with the bot's side-by-side reads made one by one
(`bot.chatops.repository.PARALLEL` off), and the sequential round trips (the longest
chain of requests each sent after the one before was answered, from the simulator's
request log) beside the minimum the data dependencies allow (`MIN_ROUND_TRIPS`).
`--timeline` prints every request of the job up to the branch's move, the chain starred.

After the commit, the promotion's GitHub Deployment (bot.chatops.deployments): list the
model's deployments in the environment, create one, its `success` status (+ the
repository's web URL once per job, for the link to the commit), and, for the one it
replaces, its statuses and an `inactive` status: 6 calls, counted apart from the
comment path above (they follow the commit, so the commit time does not include them).

Then what GitHub's other surfaces cost, each beside a baseline measured in the same run:
a PR's CI (workflow in progress, then completed) and one approving review, with and
without the check-run handlers; a re-run, a merge group, a promotion button click, a
deployment protection rule request, and `mlbot github sync-deployments` with nothing to do.
"""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MINIMUM = 23
LATENCY = 0.100
RUNS = 3
# Operations only the deployment projection sends on the promotion path.
DEPLOYMENT_OPS = {
    "repos/list-deployments",
    "repos/create-deployment",
    "repos/create-deployment-status",
    "repos/list-deployment-statuses",
    "repos/get",
}


class _Stamped(list):
    """The simulator's request log, with when each request arrived (its end: + duration)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.arrived: dict[int, float] = {}

    def append(self, entry: object) -> None:
        self.arrived[id(entry)] = time.monotonic()
        super().append(entry)


def stamp(world) -> _Stamped:
    log = _Stamped(world.sim.requests)
    world.sim.requests = log
    return log


@contextmanager
def bench_world(
    tmp: Path, template: Path, *, parallel: bool = True, **kwargs: Any
) -> Iterator[tuple[Any, Any, _Stamped]]:
    """(world, its faults, the stamped request log) of the e2e harness's model repository,
    the bot's side-by-side reads on or off (`parallel`); every simulator it started is
    stopped and checked against the OpenAPI description at the end."""
    from bot.chatops import repository
    from bot.simulator import Faults, GitHubSimulator
    from tests.e2e.conftest import build_world

    repository.PARALLEL = parallel
    faults = kwargs.pop("faults", None) or Faults()
    started: list[GitHubSimulator] = []

    def make_sim(**options: object) -> GitHubSimulator:
        sim = GitHubSimulator(tmp / f"sim-{len(started)}", **options).start()  # type: ignore[arg-type]
        started.append(sim)
        return sim

    gen = build_world(make_sim, tmp, template, faults=faults, **kwargs)
    world = next(gen)
    try:
        yield world, faults, stamp(world)
    finally:
        repository.PARALLEL = True
        for _ in gen:
            pass
        for sim in started:
            sim.stop()
        for sim in started:
            sim.assert_valid()


def critical_path(log: _Stamped, entries: list) -> list:
    """The longest chain of requests each sent after the one before it was answered.

    Earliest-finishing first gives the most pairwise non-overlapping intervals: the
    number of round trips the job waited for one after another.
    """
    spans = sorted(
        ((log.arrived[id(r)], log.arrived[id(r)] + r.duration, r) for r in entries),
        key=lambda t: t[1],
    )
    chain: list = []
    end = -1.0
    for start, finish, r in spans:
        if start >= end:
            chain.append((start, finish, r))
            end = finish
    return chain


def print_timeline(log: _Stamped, entries: list, t0: float) -> None:
    chain = {id(r) for _s, _f, r in critical_path(log, entries)}
    for r in sorted(entries, key=lambda r: log.arrived[id(r)]):
        start = log.arrived[id(r)] - t0
        mark = "*" if id(r) in chain else " "
        q = f"?{r.query}" if r.query else ""
        print(
            f"    {mark} {start * 1000:6.0f} +{r.duration * 1000:4.0f} ms"
            f"  {r.method:<5} {r.path}{q[:60]}"
        )


def bot_requests(world, since: int) -> list:
    return [
        r
        for r in world.sim.requests[since:]
        if r.login == "mlbot[bot]" or r.path.startswith("/_sim/")
    ]


def sync_deployments(world) -> int:
    """`mlbot github sync-deployments` as an operator runs it, with the App's key."""
    import os

    from bot.cli import main

    os.environ.update(
        MLBOT_APP_ID=str(world.app.id),
        MLBOT_PRIVATE_KEY=world.app.private_key_pem,
        MLBOT_GITHUB_URL=world.sim.url,
    )
    return main(["github", "sync-deployments", "--repo", world.repo])


def one_promote(
    tmp: Path, template: Path, latency: float, parallel: bool = True
) -> tuple[int, float, float, list[str], int]:
    with bench_world(tmp, template, parallel=parallel) as (world, faults, log):
        sync_deployments(world)  # steady state: production has a deployment to replace
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
        mine = bot_requests(world, first)
        ops = [r.operation_id or r.path.split("/")[1] for r in mine]
        assert "Promoted cancer" in world.last_reply(pr), world.last_reply(pr)
        assert "to environment production recorded" in world.last_reply(pr)
        moved = next(i for i, r in enumerate(mine) if r.operation_id == "git/update-ref")
        trips = len(critical_path(log, mine[: moved + 1]))
        return len(mine), to_commit, to_reply, ops, trips


def main() -> int:
    from tests.e2e.conftest import make_registry_template

    with tempfile.TemporaryDirectory(prefix="mlbot-bench-") as raw:
        tmp = Path(raw)
        template = make_registry_template(tmp / "template.git")
        results = {}
        for latency, parallel in ((0.0, True), (LATENCY, True), (LATENCY, False)):
            runs = []
            for i in range(RUNS):
                run_dir = tmp / f"run-{latency}-{parallel}-{i}"
                run_dir.mkdir()
                runs.append(one_promote(run_dir, template, latency, parallel))
            results[(latency, parallel)] = runs
    total, _, _, ops, _ = results[(LATENCY, True)][-1]
    deploy = [op for op in ops if op in DEPLOYMENT_OPS]
    calls = total - len(deploy)
    print("GitHub API calls for one /promote (from the simulator's request log):")
    for op, n in sorted(collections.Counter(ops).items()):
        print(f"  {n:3d}  {op}{'   (deployment)' if op in DEPLOYMENT_OPS else ''}")
    print(
        f"  comment path: {calls} requests   derived minimum: {MINIMUM + 1} requests "
        f"({MINIMUM} API calls + the artifact redirect)   ratio {calls / (MINIMUM + 1):.2f}x "
        "(target <= 1.5x)"
    )
    print(f"  + the deployment after the commit: {len(deploy)} calls (derived minimum 6)")
    print()
    print("Comment webhook -> registry commit (median of 3; reply time after):")
    for (latency, parallel), runs in results.items():
        commit = sorted(r[1] for r in runs)[len(runs) // 2]
        reply = sorted(r[2] for r in runs)[len(runs) // 2]
        trips = sorted(r[4] for r in runs)[len(runs) // 2]
        label = f"{latency * 1000:.0f} ms per call{'' if parallel else ', reads one by one'}"
        chain = (
            f"; {trips} sequential round trips to the commit (minimum {MIN_ROUND_TRIPS})"
            if latency
            else ""  # without latency the requests hardly overlap: no chain to read
        )
        print(f"  {label:>34}: commit {commit:.2f} s, reply {reply:.2f} s{chain}")
    commit_latency = sorted(r[1] for r in results[(LATENCY, True)])[RUNS // 2]
    ok = calls <= 1.5 * (MINIMUM + 1) and commit_latency <= 1.2
    print()
    verdict = "met" if ok else "NOT met"
    print(f"targets: calls <= 1.5x minimum, commit <= 1.2 s at 100 ms per call: {verdict}")
    print()
    rollbacks()
    print()
    surfaces()
    print()
    budget()
    return 0


# /rollback's chain, by data dependencies: the head (beside the permission and the
# issue's comments) -> the tree and config -> the model's registry commits, stages.yaml
# and CODEOWNERS -> its tags, the owning team's members and the record of the version to
# restore -> the write's fresh read of the tags, the tree, the commit, the branch's move.
# The record could go one round trip earlier, read from stages.yaml alone; the bot picks
# the version from the model's whole state (tags included) with the function that plans
# the write, so it waits for the tags: 9 against 8.
ROLLBACK_MIN_ROUND_TRIPS = 8


def one_rollback(tmp: Path, template: Path, parallel: bool) -> tuple[float, int, int]:
    """(comment -> registry commit s, sequential round trips, requests) of one `/rollback`
    on an incident issue, at LATENCY per call, after a `/help` there (the App's token
    and the recovery check are behind it, as in a running bot)."""
    with bench_world(tmp, template, parallel=parallel) as (world, faults, log):
        issue = world.issue()
        world.comment(issue, "/help", user="bob")
        world.settle()
        before = world.main_sha()
        faults.latency_per_call = LATENCY
        first = len(world.sim.requests)
        t0 = time.perf_counter()
        world.comment(issue, "/rollback cancer because latency doubled", user="bob")
        store = world.sim.repo(world.repo).store
        while store.ref_sha("heads/main") == before:
            time.sleep(0.002)
        to_commit = time.perf_counter() - t0
        while len(world.command_replies(issue)) < 2:
            time.sleep(0.002)
        world.settle()
        faults.latency_per_call = 0.0
        assert "Rolled back cancer" in world.last_reply(issue), world.last_reply(issue)
        mine = bot_requests(world, first)
        moved = next(i for i, r in enumerate(mine) if r.operation_id == "git/update-ref")
        return to_commit, len(critical_path(log, mine[: moved + 1])), moved + 1


def rollbacks() -> None:
    """`/rollback` comment -> registry commit, the reads side by side and one by one."""
    from tests.e2e.conftest import make_registry_template

    with tempfile.TemporaryDirectory(prefix="mlbot-bench-rollback-") as raw:
        tmp = Path(raw)
        template = make_registry_template(tmp / "template.git")
        found = {}
        for parallel in (True, False):
            runs = []
            for i in range(RUNS):
                run_dir = tmp / f"run-{parallel}-{i}"
                run_dir.mkdir()
                runs.append(one_rollback(run_dir, template, parallel))
            found[parallel] = runs
    per_call = f"{LATENCY * 1000:.0f} ms per call"
    print(f"/rollback comment -> registry commit at {per_call} (median of {RUNS}):")
    for parallel, runs in found.items():
        commit = sorted(r[0] for r in runs)[len(runs) // 2]
        trips = sorted(r[1] for r in runs)[len(runs) // 2]
        label = "reads side by side" if parallel else "reads one by one"
        print(
            f"  {label:>19}: commit {commit:.2f} s; {trips} sequential round trips"
            f" (minimum {ROLLBACK_MIN_ROUND_TRIPS}), {runs[-1][2]} requests to the commit"
        )


# The /promote's critical path, by data dependencies. The longest chain of reads is the
# evaluation's: the pull (its head) -> the head's workflow runs (which one is the model's
# needs the config, read at the default branch's head in that same round trip) -> that
# run's artifacts -> the evaluation's zip -> blob storage (GitHub's redirect; the
# simulator serves it without injected latency). The default branch's chain is shorter
# (head -> tree and config -> stages.yaml, registry commits, CODEOWNERS -> tags and team
# members) and the version records, tamper and incident issues go beside it. Then the
# write: its fresh read of the model's tags (on purpose: a GTO tag-only promotion does
# not move the branch, so the branch's compare-and-swap alone would not catch it), the
# tree, the commit, the branch's move. 5 + 4 = 9.
MIN_ROUND_TRIPS = 9
# The one read a /promote job repeats on purpose (the write's fresh read, above).
REREAD_ON_PURPOSE = "/git/matching-refs/tags/"


def _budget_run(
    tmp: Path,
    template: Path,
    cache: bool,
    label: str = "",
    timeline: bool = False,
    parallel: bool = True,
) -> dict[str, float]:
    """One world: warm it as a PR's life does, then count one /promote and one comment update.

    `parallel` off: the bot's side-by-side reads go one after another (the baseline).
    """
    got: dict[str, float] = {}
    with bench_world(tmp, template, parallel=parallel, github_cache=cache) as (
        world,
        faults,
        log,
    ):
        pr = world.open_pr()
        world.review(pr, user="alice")
        world.settle()
        first = len(world.sim.requests)
        world.ci(pr)  # the workflow re-ran: the sticky metric comment is brought up to date
        world.settle()
        update = bot_requests(world, first)
        got["comment sent"] = len(update)
        got["comment counted"] = sum(r.counted for r in update)
        before = world.main_sha()
        faults.latency_per_call = LATENCY
        first = len(world.sim.requests)
        t0 = time.perf_counter()
        m0 = time.monotonic()
        world.comment(pr, "/promote")
        store = world.sim.repo(world.repo).store
        while store.ref_sha("heads/main") == before:
            time.sleep(0.002)
        got["commit s"] = time.perf_counter() - t0
        while not world.command_replies(pr):
            time.sleep(0.002)
        world.settle()
        faults.latency_per_call = 0.0
        mine = [r for r in bot_requests(world, first) if r.operation_id not in DEPLOYMENT_OPS]
        assert "Promoted cancer" in world.last_reply(pr), world.last_reply(pr)
        got["promote sent"] = len(mine)
        got["promote counted"] = sum(r.counted for r in mine)
        got["promote 304"] = sum(r.not_modified for r in mine)
        # Up to the branch's move the requests are the /promote job's alone (the push then
        # starts other jobs: the PR's check run, say).
        moved = next(i for i, r in enumerate(mine) if r.operation_id == "git/update-ref")
        job = mine[: moved + 1]
        got["round trips"] = len(critical_path(log, job))
        if timeline:
            print(f"  {label}: the /promote job's requests up to the branch's move (* sequential):")
            print_timeline(log, job, m0)
        job = job[:-1]
        reads = collections.Counter((r.path, r.query) for r in job if r.method == "GET")
        got["repeated reads"] = sum(n - 1 for n in reads.values())
        # The write's own fresh read of the head and the model's tags (a compare-and-swap
        # re-checks the gates on what it writes): a 304 when nothing moved, so free.
        seen: set[tuple[str, str]] = set()
        got["repeats counted"] = 0
        for r in job:
            if r.method == "GET":
                if (r.path, r.query) in seen and r.counted:
                    got["repeats counted"] += 1
                seen.add((r.path, r.query))
        got["repeats"] = ", ".join(p for (p, _q), n in reads.items() if n > 1)  # type: ignore[assignment]
        got["unexpected repeats"] = sum(
            n - 1 for (p, _q), n in reads.items() if n > 1 and REREAD_ON_PURPOSE not in p
        )
    return got


BUDGET_RUNS = (
    # label, conditional requests, side-by-side reads
    ("before (no cache)", False, True),
    ("conditional", True, True),
    ("reads one by one", True, False),
)


def budget() -> None:
    """Requests counted against the rate limit vs sent, conditional requests on and off;
    comment -> commit time and its sequential round trips, side-by-side reads on and off."""
    from tests.e2e.conftest import make_registry_template

    found = {}
    with tempfile.TemporaryDirectory(prefix="mlbot-bench-budget-") as raw:
        tmp = Path(raw)
        template = make_registry_template(tmp / "template.git")
        for i, (label, cache, parallel) in enumerate(BUDGET_RUNS):
            (tmp / str(i)).mkdir()
            found[label] = _budget_run(tmp / str(i), template, cache, label, TIMELINE, parallel)
    print("GitHub API budget (the bot's requests; deployment projection apart):")
    print(
        f"  {'':<20} {'/promote sent':>14} {'counted':>8} {'304':>5}"
        f" {'comment update sent':>20} {'counted':>8} {'reads repeated (counted)':>25}"
    )
    for label, got in found.items():
        print(
            f"  {label:<20} {got['promote sent']:>14.0f} {got['promote counted']:>8.0f}"
            f" {got['promote 304']:>5.0f} {got['comment sent']:>20.0f}"
            f" {got['comment counted']:>8.0f}"
            f" {got['repeated reads']:>17.0f} ({got['repeats counted']:.0f})"
        )
    old, new = found["before (no cache)"], found["conditional"]
    saved = 1 - new["promote counted"] / old["promote counted"]
    print(
        f"  counted per /promote: {new['promote counted']:.0f} vs {old['promote counted']:.0f}"
        f" ({saved:.0%} fewer; target >= 33%: {'met' if saved >= 1 / 3 else 'NOT met'})"
    )
    if new["repeats"]:
        print(f"  read twice in the /promote job (before its write): {new['repeats']}")
    unexpected = max(got["unexpected repeats"] for got in found.values())
    print(
        "  no read repeated within the job, but the write's fresh read of the model's tags"
        f" (on purpose; a 304 with the cache): {'met' if unexpected == 0 else 'NOT met'}"
    )
    base = found["reads one by one"]
    for label, got in found.items():
        print(
            f"  {label:<20} comment -> commit at {LATENCY * 1000:.0f} ms per call:"
            f" {got['commit s']:.2f} s (reads one by one: {base['commit s']:.2f} s),"
            f" {got['round trips']:.0f} sequential round trips"
            f" (minimum by data dependencies: {MIN_ROUND_TRIPS})"
        )
    ok = new["commit s"] <= 1.2
    print(
        f"  target comment -> commit <= 1.2 s at {LATENCY * 1000:.0f} ms per call (conditional):"
        f" {'met' if ok else 'NOT met'} (one run each; the medians are above, without --budget)"
    )


def _measure(world, act) -> int:
    first = len(world.sim.requests)
    act()
    world.settle()
    return len(bot_requests(world, first))


def _latest_check(world, sha: str):
    runs = [r for r in world.sim.check_runs.values() if r.head_sha == sha]
    return max((r for r in runs if r.name == "mlbot / cancer"), key=lambda r: r.id)


def _events(world, full: bool) -> dict[str, int]:
    """The bot's requests for each event; `full`: the events only the new surfaces answer."""
    got: dict[str, int] = {}
    first = len(world.sim.requests)
    pr = world.open_pr()
    world.settle()
    got["ci"] = len(bot_requests(world, first))
    got["review by another"] = _measure(world, lambda: world.review(pr, user="carol"))
    got["review"] = _measure(world, lambda: world.review(pr, user="alice"))
    if not full:
        return got
    head = world.head(pr)
    green = _latest_check(world, head)
    assert green.conclusion == "success", green.conclusion
    got["rerun"] = _measure(world, lambda: world.sim.rerun_check_run(green.id, user="carol"))
    got["merge group"] = _measure(world, lambda: world.sim.enqueue_pr(world.repo, pr, user="alice"))
    world.sim.protect_environment(world.repo, "production", world.app.slug)
    got["protection rule"] = _measure(
        world,
        lambda: world.sim.request_deployment_gate(
            world.repo,
            "production",
            ref="main",
            user="alice",
            payload={"model": "cancer", "version": "v1.1.0"},
        ),
    )
    for key in ("sync (first)", "sync (nothing to do)"):
        first = len(world.sim.requests)
        sync_deployments(world)
        got[key] = len(world.sim.requests) - first
    button = _latest_check(world, head)
    got["button click"] = _measure(
        world, lambda: world.sim.press_check_action(button.id, "promote:production", user="carol")
    )
    assert "Promoted cancer" in world.last_reply(pr), world.last_reply(pr)
    return got


def surfaces() -> None:
    """API calls of each new surface, beside the same events without its handlers."""
    from bot.webhooks.handlers import commands, drift, ping, workflow_runs
    from bot.webhooks.router import Router
    from tests.e2e.conftest import make_registry_template

    baseline = Router(ping.router, workflow_runs.router, drift.router, commands.router)
    found: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="mlbot-bench-surfaces-") as raw:
        tmp = Path(raw)
        template = make_registry_template(tmp / "template.git")
        for label, router in (("without", baseline), ("with", None)):
            (tmp / label).mkdir()
            with bench_world(tmp / label, template, router=router) as (world, _faults, _log):
                found[label] = _events(world, full=router is None)
    without, with_ = found["without"], found["with"]
    print("API calls per event (the bot's requests, from the simulator's log):")
    print(f"  {'event':<36} {'with surfaces':>14} {'without':>8} {'added':>6}")
    for key, what in (
        ("ci", "PR: its CI (workflow start + end)"),
        ("review by another", "PR: a review by a non-owner"),
        ("review", "PR: a code owner's approval"),
    ):
        print(f"  {what:<36} {with_[key]:>14} {without[key]:>8} {with_[key] - without[key]:>6}")
    keys = ("ci", "review by another", "review")
    added = sum(with_[k] - without[k] for k in keys)
    print(f"  {'= the check run, per PR (these three)':<36} {'':>14} {'':>8} {added:>6}")
    for key in ("rerun", "merge group", "protection rule", "button click"):
        print(f"  {key:<36} {with_[key]:>14} {'-':>8} {with_[key]:>6}")
    print(
        f"  {'mlbot github sync-deployments':<36} first {with_['sync (first)']},"
        f" then {with_['sync (nothing to do)']} with nothing to do (all requests, JWT included)"
    )


TIMELINE = "--timeline" in sys.argv

if __name__ == "__main__":
    if [a for a in sys.argv[1:] if a != "--timeline"] == ["--budget"]:
        budget()
        raise SystemExit(0)
    raise SystemExit(main())
