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


def test_promote_without_approval_waits_then_completes_when_an_owner_approves(
    world: World,
) -> None:
    pr = world.open_pr()
    world.comment(pr, "/promote cancer v1.2.0 to production")
    world.settle()
    reply = world.last_reply(pr)
    assert "Waiting for approval" in reply
    assert "0 of 1 code-owner approval for production" in reply
    assert "alice, bob, dave" in reply  # who can approve: the team expanded
    assert world.live()["production"] == "v1.1.0"

    world.review(pr, user="dave")  # an owner through the team acme/ml-leads
    world.settle()
    assert "Promoted cancer v1.2.0 to production" in world.last_reply(pr)
    assert world.live()["production"] == "v1.2.0"
    assert audit.parse_trailers(world.registry_log()[0])["Approved-by"] == ["dave"]

    # A second approval finds nothing pending: no second commit, no second reply.
    replies = len(world.command_replies(pr))
    commits = len(world.registry_log())
    world.review(pr, user="bob")
    world.settle()
    assert len(world.command_replies(pr)) == replies
    assert len(world.registry_log()) == commits


def test_a_non_owner_approval_does_not_count(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="erin")
    world.comment(pr, "/promote")
    world.settle()
    reply = world.last_reply(pr)
    assert "Waiting for approval" in reply
    assert "erin is not a code owner" in reply
    assert world.live()["production"] == "v1.1.0"


def test_an_approval_before_a_new_push_does_not_count(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    head = world.push(pr, {"models/cancer/train.py": "print('even better')\n"})
    world.ci(pr, head)
    world.comment(pr, "/promote")
    world.settle()
    reply = world.last_reply(pr)
    assert "Waiting for approval" in reply
    assert "alice approved an older commit" in reply
    assert world.live()["production"] == "v1.1.0"


def test_a_pending_promotion_expires_when_the_head_moves(world: World) -> None:
    pr = world.open_pr()
    world.comment(pr, "/promote")
    world.settle()
    assert "Waiting for approval" in world.last_reply(pr)
    head = world.push(pr, {"models/cancer/train.py": "print('again')\n"})
    world.ci(pr, head)
    world.review(pr, user="alice")
    world.settle()
    reply = world.last_reply(pr)
    assert "expired" in reply and "head moved" in reply
    assert world.live()["production"] == "v1.1.0"


def test_a_pr_that_edits_codeowners_to_name_its_author_is_still_refused(world: World) -> None:
    pr = world.open_pr(
        files={
            ".github/CODEOWNERS": "*  @carol\n/registry/  @carol @erin\n",
            "models/cancer/train.py": "print('mine')\n",
        }
    )
    world.review(pr, user="erin")
    world.comment(pr, "/promote")
    world.settle()
    reply = world.last_reply(pr)
    assert "Promoted" not in reply
    assert "alice, bob, dave" in reply  # the default branch's owners, not the PR's
    assert "erin is not a code owner" in reply
    assert world.live()["production"] == "v1.1.0"


def test_commands_in_code_blocks_quotes_and_edits_are_ignored(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    fenced = world.comment(pr, "Try this:\n```\n/promote\n```\n> /promote\n    /promote\n")
    plain = world.comment(pr, "nothing to see")
    world.settle()
    world.sim.edit_comment(plain, "/promote", user="carol")
    world.settle()
    assert world.reactions(fenced) == [] and world.reactions(plain) == []
    assert world.command_replies(pr) == [] or all(
        "mlbot:reply" not in c for c in world.command_replies(pr)
    )
    assert world.live()["production"] == "v1.1.0"


def test_an_edited_command_does_not_run_again(world: World) -> None:
    pr = world.open_pr()
    cid = world.comment(pr, "/status cancer")
    world.settle()
    before = len(world.command_replies(pr))
    world.sim.edit_comment(cid, "/status", user="carol")
    world.settle()
    assert len(world.command_replies(pr)) == before


def test_commands_from_bots_are_ignored(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.sim.user("ci-helper[bot]", "Bot")
    world.sim.add_collaborator(world.repo, "ci-helper[bot]", "write")
    cid = world.comment(pr, "/promote", user="ci-helper[bot]")
    world.settle()
    assert world.reactions(cid) == []
    assert world.live()["production"] == "v1.1.0"


def test_readers_are_refused_with_what_they_lack(world: World) -> None:
    pr = world.open_pr()
    world.review(pr, user="alice")
    world.comment(pr, "/promote", user="mallory")
    world.settle()
    reply = world.last_reply(pr)
    assert "refused" in reply
    assert "mallory has read access" in reply
    assert "grant mallory the write role" in reply
    assert world.live()["production"] == "v1.1.0"


def test_closed_prs_and_prs_against_other_branches_are_refused(world: World) -> None:
    world.sim.create_branch(world.repo, "release")
    other = world.open_pr(branch="to-release", base="release")
    world.review(other, user="alice")
    world.comment(other, "/promote")
    closed = world.open_pr(branch="closed-one")
    world.review(closed, user="alice")
    world.sim.set_issue_state(world.repo, closed, "closed", user="carol")
    world.comment(closed, "/promote")
    world.settle()
    assert "not the default branch main" in world.last_reply(other)
    assert f"#{closed} is closed" in world.last_reply(closed)
    assert world.live()["production"] == "v1.1.0"


def test_fork_prs_are_refused(world: World) -> None:
    world.sim.fork(world.repo, "mallory")
    head = world.sim.push(
        "mallory/models", "evil", {"models/cancer/train.py": "x\n"}, author="mallory"
    )
    pr = world.sim.open_pr(world.repo, "evil", user="mallory", head_repo="mallory/models")
    world.ci(pr, head)
    world.review(pr, user="alice")
    world.comment(pr, "/promote", user="carol")
    world.settle()
    reply = world.last_reply(pr)
    assert "fork" in reply and "refused" in reply
    assert world.live()["production"] == "v1.1.0"


def test_arguments_are_checked_against_allowlists(world: World) -> None:
    pr = world.open_pr()
    world.comment(pr, "/promote fraud")
    world.comment(pr, "/promote cancer v9.9.9")
    world.comment(pr, "/promote cancer v1.2.0 to moon")
    world.comment(pr, "/promote cancer; rm -rf /")
    world.settle()
    replies = world.command_replies(pr)
    said = "\n".join(replies)
    assert "`fraud` is not a model configured" in said and "cancer, churn" in said
    assert "cancer has no registered version v9.9.9" in said
    assert "`moon` is not a stage" in said and "staging, production" in said
    assert "unexpected word" in said
    assert world.live()["production"] == "v1.1.0"


def test_the_model_must_be_named_on_an_issue_when_there_are_several(world: World) -> None:
    issue = world.issue("Promote something")
    world.comment(issue, "/promote to production", user="alice")
    world.settle()
    reply = world.last_reply(issue)
    assert "several models" in reply and "cancer, churn" in reply


def test_unknown_commands_get_a_suggestion_and_help_lists_every_command(world: World) -> None:
    pr = world.open_pr()
    cid = world.comment(pr, "/promot cancer")
    world.comment(pr, "/help")
    world.settle()
    replies = world.command_replies(pr)
    assert ("mlbot[bot]", "eyes") in world.reactions(cid)
    assert any("Did you mean `/promote`?" in r for r in replies)
    help_text = next(r for r in replies if "mlbot commands" in r)
    for usage in (
        "/promote [model] [version] [to stage]",
        "/rollback",
        "/approve [cancel]",
        "/retrain",
        "/status [model]",
        "/help",
    ):
        assert usage in help_text


def test_status_shows_what_is_live(world: World) -> None:
    issue = world.issue("What runs?")
    world.comment(issue, "/status cancer", user="mallory")
    world.settle()
    reply = world.last_reply(issue)
    assert "| production | v1.1.0 |" in reply
    assert "| staging | v1.2.0 |" in reply


def _model_run(world: World, pr: int, files: dict[str, str]) -> int:
    """Another run of the model's own workflow on the PR head (a re-trigger), uploading `files`."""
    pull = world.sim.issue(world.repo, pr).pull
    assert pull is not None
    return world.sim.create_workflow_run(
        world.repo,
        name="mlbot",
        path=".github/workflows/mlbot.yml",
        head_sha=world.head(pr),
        head_branch=pull.head_ref,
        pull_numbers=[pr],
        artifacts={"mlbot-evaluation-cancer": files},
    )


def test_the_newest_run_of_the_models_workflow_is_its_evidence(world: World) -> None:
    import json

    from tests.e2e.conftest import evaluation

    pr = world.open_pr()  # its run evaluated v1.2.0 with passing numbers
    _model_run(world, pr, {"evaluation.json": json.dumps(evaluation(metrics={"accuracy": 0.5}))})
    world.review(pr, user="alice")
    world.comment(pr, "/promote")
    world.settle()
    reply = world.last_reply(pr)
    assert "0.5 is below the minimum 0.9" in reply, reply
    assert world.live()["production"] == "v1.1.0"


def test_an_unreadable_evaluation_in_the_newest_run_falls_back_to_the_run_before(
    world: World,
) -> None:
    pr = world.open_pr()
    first = max(r.id for r in world.sim.workflow_runs.values())
    _model_run(world, pr, {"evaluation.json": "[1, 2, 3]"})
    world.review(pr, user="alice")
    world.comment(pr, "/promote")
    world.settle()
    reply = world.last_reply(pr)
    assert "Promoted cancer v1.2.0 to production" in reply, reply
    evidence = audit.parse_trailers(world.registry_log()[0])["Evidence"]
    assert any(f"/actions/runs/{first}" in e or f"run {first}" in e for e in evidence), evidence
