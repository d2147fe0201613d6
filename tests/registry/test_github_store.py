"""The registry over GitHub's API: the calls each operation costs, and what faults cannot break.

Every test runs against the local simulator with OpenAPI validation on. Call
counts are read from the simulator's request log (what GitHub would see) and
checked against the adapter's own counter.
"""

from __future__ import annotations

import logging
import threading

import pytest

from bot.errors import MlbotError
from bot.registry import check
from bot.registry.github_store import GitHubStore
from bot.simulator import Faults
from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401
from tests.registry.test_backends import REPO, artifact, ask, github_backend, tag_table

READ = ["git/get-ref", "git/get-tree", "git/list-matching-refs", "repos/list-commits"]
WRITE = ["git/create-tree", "git/create-commit", "git/update-ref"]
TAG = ["git/create-tag", "git/create-ref"]


@pytest.fixture
def remote(request, tmp_path):
    make = request.getfixturevalue("make_github_sim")
    return github_backend(tmp_path, make)


def calls(sim, action):
    """The operations GitHub received while `action` ran, in order."""
    start = len(sim.requests)
    result = action()
    return [r.operation_id for r in sim.requests[start:]], result


def test_each_operation_costs_the_calls_it_needs_and_no_more(remote) -> None:
    """Counted as the bot pays them: a fresh store (a new job) for every operation."""
    b, sim, gh = remote
    reg = b.registry()

    sent = gh.request_count
    ops, _ = calls(sim, lambda: reg.register("churn", artifact=artifact(1), audit_info=ask("a")))
    # The ref, one tree, the model's tags, one page of its commits; then write and tag.
    assert ops == READ + WRITE + TAG
    assert gh.request_count - sent == len(ops) == 9
    reg.register("churn", artifact=artifact(2), audit_info=ask("a"))

    def promote(version: str, stage: str):
        fresh = b.registry(b.new_store())
        return calls(sim, lambda: fresh.promote("churn", version, stage, audit_info=ask("a")))[0]

    # The first promotion: + the version record the gates read. No tag object: the
    # registration commit's Mlbot-Tag line gives the target and the date.
    assert promote("v0.1.0", "staging") == [*READ, "git/get-blob", *WRITE, *TAG]
    stages_blob = ["git/get-ref", "git/get-tree", "git/get-blob"]
    listing = ["git/list-matching-refs", "repos/list-commits"]
    assert promote("v0.1.0", "production") == [
        *stages_blob,
        *listing,
        "git/get-blob",  # v0.1.0 record (its metrics and evidence)
        *WRITE,
        *TAG,
    ]
    promote("v0.2.0", "staging")
    assert promote("v0.2.0", "production") == [
        *stages_blob,
        *listing,
        "git/get-blob",  # v0.2.0 record
        "git/get-blob",  # v0.1.0 record, live in production: the regression baseline
        *WRITE,
        *TAG,
    ]
    fresh = b.registry(b.new_store())
    ops, _ = calls(sim, lambda: fresh.rollback("churn", "production", audit_info=ask("a")))
    # + the restored version's record, validated before the write points at it.
    assert ops == [*stages_blob, *listing, "git/get-blob", *WRITE, *TAG, *TAG]
    assert len(ops) == 13  # the tags: demotion + assignment


def test_a_store_reused_within_a_job_reads_immutable_objects_once(remote) -> None:
    b, sim, _gh = remote
    reg = b.registry()
    for n in (1, 2):
        reg.register("churn", artifact=artifact(n), audit_info=ask("a"))
    reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a"))
    reg.promote("churn", "v0.2.0", "staging", audit_info=ask("a"))
    ops, _ = calls(sim, lambda: reg.promote("churn", "v0.1.0", "production", audit_info=ask("a")))
    # stages.yaml changed and is read; v0.1.0's record was read before and is not.
    assert ops.count("git/get-blob") == 1


def test_first_promotion_calls(remote) -> None:
    b, sim, _gh = remote
    reg = b.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("a"))
    ops, out = calls(sim, lambda: reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a")))
    assert out.tags == ["churn#staging#1"]
    assert ops == [*READ, "git/get-blob", *WRITE, *TAG]


def test_a_tag_older_than_the_commit_page_is_read_once_and_only_that_one(remote, tmp_path) -> None:
    b, sim, gh = remote
    reg = b.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("a"))
    reg.register("churn", artifact=artifact(2), audit_info=ask("a"))
    reg.register("churn", artifact=artifact(3), audit_info=ask("a"))
    narrow = b.registry(GitHubStore(gh, REPO, "main", log_page=1))
    ops, _ = calls(sim, lambda: narrow.promote("churn", "v0.1.0", "staging", audit_info=ask("a")))
    # v0.1.0's registration is beyond the one commit read: its tag object is fetched, alone.
    assert ops.count("git/get-tag") == 1
    assert tag_table(b)["churn#staging#1"][1] == tag_table(b)["churn@v0.1.0"][1]


def test_a_commit_whose_tags_failed_is_reported_then_healed(remote) -> None:
    b, sim, _gh = remote
    reg = b.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("a"))
    reg.register("churn", artifact=artifact(2), audit_info=ask("a"))

    # Every tag creation fails, through the adapter's retries and the store's own.
    sim.faults.only_paths = (f"/repos/{REPO}/git/tags",)
    sim.faults.kinds = ("error",)
    sim.faults.rate = 1.0
    out = reg.promote("churn", "v0.2.0", "staging", audit_info=ask("a"))
    assert b.store.unhealed == ["churn#staging#1"]
    assert "churn#staging#1" not in tag_table(b)
    sim.faults.rate = 0.0
    # The commit is in; check (which only reads) names the missing tag until it exists.
    problems = [str(p) for p in check.check(b.store)]
    assert f"commit {out.commit[:12]}: declares tag churn#staging#1, which does not exist yet" in (
        "\n".join(problems)
    )

    assert check.check(b.store) != []
    # The next read heals before anything is planned on it (here: a plain read).
    state = b.new_store().read_model("churn", b.store.head())
    assert [e.ref.name for e in state.events if e.stage] == ["churn#staging#1"]
    assert check.check(b.store) == []
    table = tag_table(b)
    assert table["churn#staging#1"][1] == table["churn@v0.2.0"][1]
    # The healed tag carries the date the write planned, so GTO's order is unchanged.
    planned = [line for line in out.change.message.splitlines() if line.startswith("Mlbot-Tag")]
    assert planned == [
        f"Mlbot-Tag: churn#staging#1 {table['churn@v0.2.0'][1]} {table['churn#staging#1'][2]}"
    ]
    # And the next write counts on it: the counter moves on, nothing is tagged twice.
    nxt = reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a"))
    assert nxt.tags == ["churn#staging#2"]


def test_healing_by_two_readers_at_once_is_idempotent(remote) -> None:
    b, sim, _gh = remote
    reg = b.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("a"))
    sim.faults.only_paths = (f"/repos/{REPO}/git/tags",)
    sim.faults.kinds = ("error",)
    sim.faults.rate = 1.0
    reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a"))
    sim.faults.rate = 0.0
    head = b.store.head()
    errors: list[Exception] = []

    def read() -> None:
        try:
            b.new_store().read_model("churn", head)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert check.check(b.store) == []


def test_a_timed_out_branch_update_is_retried_without_a_second_commit(request, tmp_path) -> None:
    b, sim, gh = github_backend(
        tmp_path,
        request.getfixturevalue("make_github_sim"),
        faults=Faults(timeout_delay=1.0),
        timeout=0.4,
    )
    reg = b.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("a"))
    sim.faults.only_paths = (f"/repos/{REPO}/git/refs/heads/",)
    sim.faults.script("timeout", "error")
    out = reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a"))
    assert out.attempts == 1
    assert b.git("log", "main", "--format=%s", "-2").splitlines() == [
        "registry: promote churn v0.1.0 to staging",
        "registry: register churn v0.1.0",
    ]
    assert gh.error_count >= 2
    assert check.check(b.store) == []


def test_with_ten_percent_faults_every_operation_ends_done_or_reported_and_whole(
    request, tmp_path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    faults = Faults(rate=0.1, seed=6, timeout_delay=0.8, retry_after=1)
    b, sim, gh = github_backend(
        tmp_path, request.getfixturevalue("make_github_sim"), faults=faults, timeout=0.3
    )
    token = gh.api.requester.auth.token
    outcomes: list[str] = []

    def attempt(what, fn) -> None:
        try:
            fn()
            outcomes.append(f"{what}: done")
        except (MlbotError, Exception) as exc:  # reported to the user, never silent
            assert token not in str(exc) and token not in repr(exc)
            outcomes.append(f"{what}: reported {type(exc).__name__}")

    for n in range(1, 5):
        reg = b.registry(b.new_store())
        attempt(
            f"register {n}",
            lambda r=reg, n=n: r.register("churn", artifact=artifact(n), audit_info=ask("a")),
        )
    for version, stage in [("v0.1.0", "staging"), ("v0.2.0", "staging"), ("v0.1.0", "production")]:
        reg = b.registry(b.new_store())
        attempt(
            f"promote {version} {stage}",
            lambda r=reg, v=version, s=stage: r.promote("churn", v, s, audit_info=ask("a")),
        )
    reg = b.registry(b.new_store())
    attempt("rollback", lambda: reg.rollback("churn", "staging", audit_info=ask("a")))

    assert len(outcomes) == 8
    assert sum(1 for r in sim.requests if r.fault) > 0
    # Faults off: one read heals whatever a write left untagged, and then all is whole.
    sim.faults.rate = 0.0
    store = b.new_store()
    store.read_model("churn", store.head())
    assert check.check(store) == [], outcomes
    commits = b.git("log", "main", "--format=%P").splitlines()
    assert all(len(p.split()) <= 1 for p in commits)  # linear
    done = [o for o in outcomes if o.endswith("done")]
    subjects = b.git("log", "main", "--format=%s").splitlines()
    assert len([s for s in subjects if s.startswith("registry:")]) == len(done), outcomes
    assert token not in caplog.text


def test_concurrent_promotions_and_rollbacks_stay_linear_and_whole(remote) -> None:
    b, _sim, _gh = remote
    reg = b.registry()
    for n in range(1, 10):
        reg.register("churn", artifact=artifact(n), audit_info=ask("a"))
    reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a"))
    results: dict[int, str] = {}

    def run(i: int) -> None:
        mine = b.registry(b.new_store(), max_attempts=20)
        try:
            if i in (3, 6):
                out = mine.rollback("churn", "staging", audit_info=ask(f"u{i}"))
            else:
                out = mine.promote("churn", f"v0.{i + 2}.0", "staging", audit_info=ask(f"u{i}"))
            results[i] = f"done {out.tags} after {out.attempts}"
        except MlbotError as exc:  # a refusal or a conflict: the user is told
            results[i] = f"told: {exc}"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    # Every promotion of a distinct version lands, however many times it lost the race.
    promotions = [results[i] for i in range(8) if i not in (3, 6)]
    assert all(r.startswith("done") for r in promotions), results
    assert all(len(p.split()) <= 1 for p in b.git("log", "main", "--format=%P").splitlines())
    assert check.check(b.store) == []
    counters = sorted(
        int(name.rsplit("#", 1)[1]) for name in tag_table(b) if name.startswith("churn#")
    )
    assert counters == list(range(1, len(counters) + 1))
    done = [r for r in results.values() if r.startswith("done")]
    stage_commits = [s for s in b.git("log", "main", "--format=%s").splitlines() if "staging" in s]
    assert len(stage_commits) == 1 + len(done)


def test_the_token_never_reaches_an_exception_or_a_log(remote, caplog) -> None:
    b, _sim, gh = remote
    caplog.set_level(logging.DEBUG)
    token = gh.api.requester.auth.token
    missing = GitHubStore(gh, "acme/nothing-here", "main")
    with pytest.raises(Exception) as raised:
        missing.read_model("churn", "0" * 40)
    assert token not in str(raised.value) and token not in repr(raised.value)
    assert token not in repr(b.store) and token not in caplog.text


def _landed_but_unanswered(request, tmp_path, **factory):
    b, sim, _gh = github_backend(
        tmp_path,
        request.getfixturevalue("make_github_sim"),
        faults=Faults(timeout_delay=1.0, timeout_after_action=True),
        timeout=0.4,
        **factory,
    )
    reg = b.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("a"))
    sim.faults.only_paths = (f"/repos/{REPO}/git/refs/heads/",)
    sim.faults.script("timeout")
    return b, sim, reg


def test_a_branch_update_that_landed_unanswered_is_done_not_redone(request, tmp_path) -> None:
    b, _sim, reg = _landed_but_unanswered(request, tmp_path, max_retries=0)
    out = reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a"))
    assert out.attempts == 1 and out.tags == ["churn#staging#1"]
    assert b.git("log", "main", "--format=%s", "-2").splitlines() == [
        "registry: promote churn v0.1.0 to staging",
        "registry: register churn v0.1.0",
    ]
    assert check.check(b.store) == []


def test_a_retried_update_refused_because_ours_landed_first_is_done(request, tmp_path) -> None:
    """The first PATCH lands unanswered, another writer builds on it, our retry gets 422."""
    b, sim, reg = _landed_but_unanswered(request, tmp_path, max_retries=1, backoff_factor=1.0)
    store = sim.repo(REPO).store
    before = store.ref_sha("heads/main")

    def racer() -> None:
        while store.ref_sha("heads/main") == before:
            threading.Event().wait(0.005)
        sim.push(REPO, "main", {"notes.md": "someone else\n"}, message="docs: notes")

    t = threading.Thread(target=racer)
    t.start()
    out = reg.promote("churn", "v0.1.0", "staging", audit_info=ask("a"))
    t.join()
    # Our retry was refused as a non-fast-forward, and still counted as done (re-planning
    # would have refused "already live in staging", or promoted twice).
    assert [r.status for r in sim.requests if r.method == "PATCH"][-1] == 422
    assert out.attempts == 1
    subjects = b.git("log", "main", "--format=%s", "-3").splitlines()
    assert subjects == [
        "docs: notes",
        "registry: promote churn v0.1.0 to staging",
        "registry: register churn v0.1.0",
    ]
    assert check.check(b.store) == []
