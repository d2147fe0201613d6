"""A pushed `mlbot registry promote`: accepted only into stages the policy opens to the CLI,
judged on what stages.yaml says before and after the commit (the real CLI writes them)."""

from __future__ import annotations

import pytest

from bot.registry import schema
from bot.registry.tamper import Accepted, PushedCommit, Revisions, Rules, judge
from tests.gitrepo import ModelRepo

BOT = "mlbot[bot]"
STAGES = schema.stages_path("churn")
OPEN = Rules(cli_stages=("staging",), owners=("alice",))


def pushed(repo: ModelRepo, *, pusher: str = "alice", commit: str = "HEAD"):
    """The commit as the push handler sees it: its changed paths, message, and trees."""
    changes: dict[str, list[str]] = {"added": [], "modified": [], "removed": []}
    out = repo.git("diff", "--name-status", "--no-renames", f"{commit}~1", commit)
    for line in out.splitlines():
        status, path = line.split("\t")
        changes[{"A": "added", "D": "removed"}.get(status, "modified")].append(path)
    sha = repo.git("rev-parse", commit).strip()

    def at(rev: str):
        def read(path: str) -> bytes | None:
            listed = repo.git("ls-tree", "--name-only", rev, "--", path).strip()
            return repo.git("show", f"{rev}:{path}").encode() if listed else None

        return read

    return (
        PushedCommit(
            sha=sha,
            author_login="alice",
            author_name="Alice Example",
            verified=False,
            added=tuple(changes["added"]),
            modified=tuple(changes["modified"]),
            removed=tuple(changes["removed"]),
            message=repo.git("log", "-1", "--format=%B", commit),
            pusher=pusher,
        ),
        Revisions(before=at(f"{commit}~1"), after=at(commit)),
    )


def promoted(repo: ModelRepo, stage: str = "staging") -> str:
    version = repo.register("churn")
    repo.ok("registry", "promote", "churn", version, "--to", stage, "--approved-by", "bob")
    return version


def test_a_cli_promotion_into_an_opened_stage_by_a_code_owner_is_accepted(repo) -> None:
    promoted(repo)
    commit, files = pushed(repo)
    accepted: list[Accepted] = []
    assert judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files, accepted=accepted) == []
    assert [(a.kind, a.stages) for a in accepted] == [("cli-promotion", ("staging",))]
    # Still a claim: the CLI never writes an approval, and the judge accepted none.
    assert "Claimed-approval-by: bob" in commit.message
    assert "Approved-by" not in commit.message


def test_a_second_cli_promotion_keeps_the_history_and_is_accepted(repo) -> None:
    promoted(repo)
    promoted(repo)
    commit, files = pushed(repo)
    assert judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files) == []


def test_the_same_commit_into_a_stage_not_opened_is_a_finding(repo) -> None:
    promoted(repo)
    commit, files = pushed(repo)
    closed = Rules(cli_stages=("production",), owners=("alice",))
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": closed}, files=files)
    assert "`promotion.staging.allow_cli`" in finding.why, finding.why
    (default,) = judge(commit, bot_login=BOT, rules={"churn": Rules()}, files=files)
    assert "does not allow CLI promotions" in default.why


def test_a_cli_promotion_pushed_by_someone_who_is_not_an_owner_is_a_finding(repo) -> None:
    promoted(repo)
    commit, files = pushed(repo, pusher="carol")
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert "pushed by `carol`" in finding.why, finding.why
    # A registration writer (the CI) may push one.
    ci = Rules(cli_stages=("staging",), writers=("carol",))
    assert judge(commit, bot_login=BOT, rules={"churn": ci}, files=files) == []


def edit_stages(repo: ModelRepo, change, message: str | None = None) -> None:
    """Amend the CLI's promotion commit: the forger keeps its message and trailers."""
    path = repo.root / STAGES
    path.write_text(change(path.read_text()))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", *(["-m", message] if message else ["--no-edit"]))


def test_a_forged_cli_promotion_that_also_moves_another_stage_is_a_finding(repo) -> None:
    promoted(repo, "staging")
    promoted(repo, "staging")
    text = (repo.root / STAGES).read_text()
    live = schema.parse_file(STAGES, text.encode(), schema.StagesFile).stages["staging"]
    promoted(repo, "staging")  # a third version into staging ...

    def also_production(text: str) -> str:  # ... and, by hand, production as well
        stages = schema.parse_file(STAGES, text.encode(), schema.StagesFile)
        stages.stages["production"] = schema.StageState(
            version=live.version, since=live.since, by="alice"
        )
        return schema.dump(stages).decode()

    edit_stages(repo, also_production)
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert "`production`" in finding.why and "allow_cli" in finding.why, finding.why


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda t: t.replace("previous:", "previous: []\n  x_previous:", 1), "stages file"),
        (
            lambda t: t + "deprecated:\n- {version: v0.1.0, at: 2026-01-01T00:00:00Z, by: a}\n",
            "deprec",
        ),
    ],
    ids=["unknown-key", "deprecation"],
)
def test_a_forged_cli_promotion_that_changes_more_of_stages_yaml_is_a_finding(
    repo, change, said
) -> None:
    promoted(repo)
    promoted(repo)
    edit_stages(repo, change)
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert said in finding.why, finding.why


def test_a_forged_cli_promotion_that_rewrites_the_history_is_a_finding(repo) -> None:
    first = promoted(repo)
    promoted(repo)
    edit_stages(repo, lambda t: t.replace(f"version: {first}", "version: v9.9.9", 1))
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert "history" in finding.why, finding.why


def test_a_forged_cli_promotion_that_also_edits_a_version_record_is_a_finding(repo) -> None:
    version = promoted(repo)
    record = repo.root / schema.version_path("churn", version)
    record.write_text(record.read_text().replace("accuracy: 0.9", "accuracy: 0.99"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-edit")
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert schema.version_path("churn", version) in finding.why, finding.why
    assert set(finding.paths) == {STAGES, schema.version_path("churn", version)}


def test_a_forged_cli_promotion_of_another_model_too_is_two_findings(repo) -> None:
    promoted(repo)
    other = repo.root / "registry" / "fraud" / "stages.yaml"
    other.parent.mkdir(parents=True)
    other.write_text((repo.root / STAGES).read_text().replace("model: churn", "model: fraud"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-edit")
    commit, files = pushed(repo)
    rules = {"churn": OPEN, "fraud": OPEN}
    assert [f.model for f in judge(commit, bot_login=BOT, rules=rules, files=files)] == [
        "churn",
        "fraud",
    ]


def test_a_cli_promotion_of_a_version_that_is_not_registered_is_a_finding(repo) -> None:
    promoted(repo)
    edit_stages(repo, lambda t: t.replace("version: v0.1.0", "version: v7.0.0", 1))
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert "not registered" in finding.why, finding.why


def test_a_forged_cli_promotion_claiming_approvals_is_a_finding(repo) -> None:
    promoted(repo)
    message = repo.git("log", "-1", "--format=%B").replace(
        "Claimed-approval-by: bob", "Approved-by: bob"
    )
    repo.git("commit", "-q", "--amend", "-m", message)
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert "`Approved-by:`" in finding.why, finding.why


@pytest.mark.parametrize("side", ["before", "after"])
def test_a_corrupt_stages_yaml_on_either_side_is_a_finding_naming_the_error(repo, side) -> None:
    promoted(repo)
    if side == "before":
        good = (repo.root / STAGES).read_text()
        (repo.root / STAGES).write_text("stages: [not, a, mapping\n")
        repo.git("commit", "-qam", "break it")
        (repo.root / STAGES).write_text(good)  # the CLI refuses a corrupt file: by hand
        repo.git("commit", "-qam", "registry: promote churn v0.1.0 to staging")
    else:
        promoted(repo)
        edit_stages(repo, lambda t: t + "  : : :\n")
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert f"{STAGES} {side} this commit is not a stages file" in finding.why, finding.why


def test_a_cli_promotion_that_declares_a_tag_of_another_stage_is_a_finding(repo) -> None:
    # Declared tags become real GTO tags when mlbot reads the registry, and an assignment
    # tag makes a version "live before" in that stage, a rollback target.
    promoted(repo)
    message = repo.git("log", "-1", "--format=%B")
    line = next(x for x in message.splitlines() if x.startswith("Mlbot-Tag: churn#staging#"))
    forged = message.replace(line, f"{line}\n{line.replace('#staging#', '#production#')}")
    repo.git("commit", "-q", "--amend", "-m", forged)
    commit, files = pushed(repo)
    (finding,) = judge(commit, bot_login=BOT, rules={"churn": OPEN}, files=files)
    assert "`churn#production#" in finding.why, finding.why


def test_a_registration_by_the_ci_declares_only_its_own_tag(repo) -> None:
    repo.register("churn")
    commit, files = pushed(repo, pusher="ci")
    ci = {"churn": Rules(writers=("ci",))}
    assert judge(commit, bot_login=BOT, rules=ci, files=files) == []
    forged = PushedCommit(
        **{
            **commit.__dict__,
            "message": commit.message + "Mlbot-Tag: churn#production#9 HEAD 1767225600\n",
        }
    )
    (finding,) = judge(forged, bot_login=BOT, rules=ci, files=files)
    assert "`churn#production#9`" in finding.why, finding.why


def test_the_history_shows_a_cli_claim_as_unchecked_never_as_an_approval(repo) -> None:
    version = promoted(repo)
    history = repo.ok("registry", "history", "churn").out
    line = next(x for x in history.splitlines() if f"{version} staging" in x)
    assert "approval claimed by bob (unchecked)" in line and "approved by" not in line, line
