"""Which pushed commits changed the registry without mlbot: GitHub's verification decides."""

from __future__ import annotations

from bot.registry.tamper import PushedCommit, Rules, judge

BOT = "mlbot[bot]"
CI = "github-actions[bot]"


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
    assert "made by `alice`" in web.why


def test_an_author_name_is_code_formatted_so_it_never_mentions_anyone() -> None:
    forged = commit(author_login=None, author_name="@bob", modified=("registry/cancer/x.yaml",))
    (finding,) = judge(forged, bot_login=BOT)
    assert "`@bob`" in finding.why


def test_the_ci_may_push_registrations_only() -> None:
    record = ("registry/cancer/versions/v2.0.0.yaml",)
    rules = {"cancer": Rules(writers=(CI,))}
    assert judge(commit(pusher=CI, added=record), bot_login=BOT, rules=rules) == []
    stages = commit(pusher=CI, added=record, modified=("registry/cancer/stages.yaml",))
    assert [f.model for f in judge(stages, bot_login=BOT, rules=rules)] == ["cancer"]
    edit = commit(pusher=CI, modified=record)
    assert judge(edit, bot_login=BOT, rules=rules) != []
    assert judge(commit(pusher="carol", added=record), bot_login=BOT, rules=rules) != []


def test_a_registration_is_judged_by_who_pushed_it_not_by_its_author_email() -> None:
    # GitHub maps an author email to an account, and anyone can write the CI's email.
    record = ("registry/cancer/versions/v2.0.0.yaml",)
    rules = {"cancer": Rules(writers=(CI,))}
    forged = commit(author_login=CI, pusher="carol", added=record)
    assert judge(forged, bot_login=BOT, rules=rules) != []


def test_a_registration_writer_of_one_model_may_not_register_another() -> None:
    records = ("registry/cancer/versions/v2.0.0.yaml", "registry/churn/versions/v9.0.0.yaml")
    rules = {"cancer": Rules(writers=(CI,))}
    found = judge(commit(pusher=CI, added=records), bot_login=BOT, rules=rules)
    assert [f.model for f in found] == ["churn"]


def test_a_registration_that_claims_approvals_or_a_command_is_a_finding() -> None:
    record = ("registry/cancer/versions/v2.0.0.yaml",)
    rules = {"cancer": Rules(writers=(CI,))}
    message = "registry: register cancer v2.0.0\n\nRequested-by: ci\nCommand: 12.1\n"
    (finding,) = judge(commit(pusher=CI, added=record, message=message), bot_login=BOT, rules=rules)
    assert "`Command:`" in finding.why, finding.why


def test_one_finding_per_model() -> None:
    both = commit(modified=("registry/cancer/stages.yaml", "registry/churn/stages.yaml"))
    assert [f.model for f in judge(both, bot_login=BOT)] == ["cancer", "churn"]
