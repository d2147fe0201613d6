"""The API budget of a real /promote job: the bot on loopback, the simulator's request log."""

from __future__ import annotations

import collections

from tests.e2e.conftest import World, registry_template, world  # noqa: F401 - fixtures


def promote_job(live: World) -> list:
    """The bot's requests for one /promote, up to its registry write (then other jobs start)."""
    pr = live.open_pr()
    live.review(pr, user="alice")
    live.settle()
    first = len(live.sim.requests)
    live.comment(pr, "/promote")
    live.settle()
    assert "Promoted cancer" in live.last_reply(pr), live.last_reply(pr)
    mine = [r for r in live.sim.requests[first:] if r.login == "mlbot[bot]"]
    moved = next(i for i, r in enumerate(mine) if r.operation_id == "git/update-ref")
    return mine[:moved]


def test_a_promote_job_repeats_no_read_and_revalidates_what_it_read_before(
    world: World,  # noqa: F811
) -> None:
    job = promote_job(world)
    reads = [r for r in job if r.method == "GET"]
    times = collections.Counter((r.path, r.query) for r in reads)
    again = {key for key, n in times.items() if n > 1}
    # Git objects (trees, blobs, tag objects) and PR facts are read once per job, even by
    # the parallel prefetch; only the write's compare-and-swap reads the head and the
    # model's tags afresh, and those are conditional: 304s that spend nothing.
    assert {path.rsplit("/", 1)[0] for path, _ in again} <= {
        "/repos/acme/models/git/ref/heads",
        "/repos/acme/models/git/matching-refs/tags",
    }, again
    repeats = [r for r in reads if (r.path, r.query) in again]
    seen: set[tuple[str, str]] = set()
    for r in repeats:
        if (r.path, r.query) in seen:
            assert r.status == 304 and not r.counted, r
        seen.add((r.path, r.query))
    # What the PR's earlier jobs read (config, CODEOWNERS, the registry) came back 304.
    assert sum(r.not_modified for r in job) >= 5
    assert sum(r.counted for r in job) < len(job)
