"""/promote end to end: PR, CI, comment, approval, registry commit and tags."""

from __future__ import annotations

from bot.registry import audit
from tests.e2e.conftest import World


def test_promote_after_approval_writes_one_audited_commit_and_tag(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    before = world.main_sha()
    cid = world.comment(pr, "Looks good.\n/promote\nthanks")
    world.settle()

    assert ("mlbot[bot]", "eyes") in world.reactions(cid)
    reply = world.last_reply(pr)
    assert "Promoted cancer v1.2.0 to production" in reply, reply
    assert world.live() == {"staging": "v1.2.0", "production": "v1.2.0"}
    log = world.registry_log()
    assert log[0].startswith("registry: promote cancer v1.2.0 to production")
    trailers = audit.parse_trailers(log[0])
    assert trailers["Requested-by"] == ["carol"]
    assert trailers["Approved-by"] == ["alice"]
    assert trailers["Refs"] == [f"#{pr}"]
    assert trailers["Evidence"]
    assert world.git("rev-parse", "main~1").strip() == before
    new_tags = [t for t in world.tags() if t.startswith("cancer#production#")]
    assert any(world.git("rev-list", "-n1", t).strip() for t in new_tags)
    assert world.git("rev-parse", "main").strip()[:7] in reply or world.main_sha() in reply
