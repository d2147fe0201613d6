"""Which pushed commits changed the registry without mlbot: GitHub's verification decides."""

from __future__ import annotations

from bot.registry.tamper import PushedCommit, judge

BOT = "mlbot[bot]"


def commit(**kw) -> PushedCommit:
    base = {"sha": "c" * 40, "author_login": "alice", "author_name": "Alice", "verified": False}
    return PushedCommit(**(base | kw))


def test_mlbots_own_verified_commits_and_unrelated_files_are_not_findings() -> None:
    assert (
        judge(
            commit(author_login=BOT, verified=True, modified=("registry/cancer/stages.yaml",)),
            bot_login=BOT,
        )
        == []
    )
    assert judge(commit(modified=("models/cancer/train.py",)), bot_login=BOT) == []


def test_a_commit_whose_author_field_says_mlbot_is_still_a_finding() -> None:
    forged = commit(author_login=None, author_name=BOT, modified=("registry/cancer/stages.yaml",))
    (finding,) = judge(forged, bot_login=BOT)
    assert finding.model == "cancer" and "not verify" in finding.why and BOT in finding.why
    # Verified, but a person's web edit, not mlbot's.
    (web,) = judge(commit(verified=True, modified=("registry/cancer/stages.yaml",)), bot_login=BOT)
    assert "made by alice" in web.why


def test_the_ci_may_push_registrations_only() -> None:
    record = ("registry/cancer/versions/v2.0.0.yaml",)
    ci = "github-actions[bot]"
    assert judge(commit(author_login=ci, added=record), bot_login=BOT, writers=[ci]) == []
    stages = commit(author_login=ci, added=record, modified=("registry/cancer/stages.yaml",))
    assert [f.model for f in judge(stages, bot_login=BOT, writers=[ci])] == ["cancer"]
    edit = commit(author_login=ci, modified=record)
    assert judge(edit, bot_login=BOT, writers=[ci]) != []
    assert judge(commit(author_login="carol", added=record), bot_login=BOT, writers=[ci]) != []


def test_one_finding_per_model() -> None:
    both = commit(modified=("registry/cancer/stages.yaml", "registry/churn/stages.yaml"))
    assert [f.model for f in judge(both, bot_login=BOT)] == ["cancer", "churn"]
