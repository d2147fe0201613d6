"""Pushed CLI promotions, long pushes and acknowledgements: the tamper gate through the real
`mlbot serve` and the simulator.

A CLI promotion is accepted only into a stage whose policy says `allow_cli`, only when the
commit changes nothing but what `mlbot registry promote` writes, and only from a code owner
(or a registration writer); everything else pushed to `registry/` is reported at once.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.cli import main as mlbot
from bot.simulator.state import Issue
from tests.e2e.conftest import MLBOT_YML
from tests.security.attacks import (
    STAGES,
    World,
    ask,
    hand_edit,
    push_to_main,
    tamper_issues,
    tamper_report,
)
from tests.simulator.helpers import http

OPEN_STAGING = MLBOT_YML.replace(
    "overrides:\n  promotion:\n",
    "overrides:\n  promotion:\n    staging:\n      allow_cli: true\n",
)


def allow_cli_in_staging(world: World) -> None:
    """The repository's owners opt staging into CLI promotions (an ordinary commit)."""
    assert OPEN_STAGING != MLBOT_YML
    push_to_main(world, {".github/mlbot.yml": OPEN_STAGING})
    world.settle()


def checkout(world: World, tmp_path: Path, name: str = "clone") -> Path:
    """A clone of main, as a code owner has it on their machine."""
    root = tmp_path / name
    subprocess.run(["git", "clone", "-q", str(world.git_dir), str(root)], check=True)
    for key, value in (("user.name", "Alice"), ("user.email", "alice@users.noreply.example")):
        subprocess.run(["git", "-C", str(root), "config", key, value], check=True)
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def cli_promote(root: Path, version: str, stage: str) -> None:
    code = mlbot(
        [
            "registry",
            "promote",
            "cancer",
            version,
            "--to",
            stage,
            "--approved-by",
            "bob",
            "--repo",
            str(root),
        ]
    )
    assert code == 0


def cli_promoted(world: World, tmp_path: Path, version: str, stage: str) -> Path:
    """A code owner's clone of main in which `mlbot registry promote` moved `version` to
    `stage`, claiming bob's approval."""
    root = checkout(world, tmp_path)
    cli_promote(root, version, stage)
    return root


def pushed(
    world: World, root: Path, *, pusher: str, force: bool = False, timeout: float = 60.0
) -> str:
    """The clone's main pushed to GitHub by `pusher` and judged by the bot: the sha pushed."""
    sha = world.sim.push_git(world.repo, root, "main", pusher=pusher, force=force)
    world.settle(timeout=timeout)
    return sha


def test_a_pushed_cli_promotion_into_an_opted_in_stage_is_not_reported(
    world: World, tmp_path: Path
) -> None:
    allow_cli_in_staging(world)
    pushed(world, cli_promoted(world, tmp_path, "v1.1.0", "staging"), pusher="alice")
    assert tamper_issues(world) == []
    assert world.live()["staging"] == "v1.1.0"
    # The audit log keeps the CLI's approval as a claim, never as an approval.
    (latest, *_) = world.registry_log()
    assert "Claimed-approval-by: bob" in latest and "Approved-by" not in latest


def test_a_pushed_cli_promotion_into_a_stage_not_opted_in_is_reported(
    world: World, tmp_path: Path
) -> None:
    allow_cli_in_staging(world)
    sha = pushed(world, cli_promoted(world, tmp_path, "v1.2.0", "production"), pusher="alice")
    body = tamper_report(world).body or ""
    assert sha in body and "`promotion.production.allow_cli`" in body, body


def test_a_cli_promotion_pushed_by_a_writer_who_is_not_a_code_owner_is_reported(
    world: World, tmp_path: Path
) -> None:
    allow_cli_in_staging(world)
    pushed(world, cli_promoted(world, tmp_path, "v1.1.0", "staging"), pusher="carol")
    issue = tamper_report(world)
    assert "pushed by `carol`" in (issue.body or ""), issue.body


def forge(root: Path, edit) -> None:
    """Amend the CLI's commit, keeping its message: it still says it is a CLI promotion."""
    edit(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--amend", "--no-edit")


def also_production(root: Path) -> None:
    path = root / STAGES
    text = path.read_text()
    head, sep, rest = text.partition("  production:\n    version: v1.1.0")
    assert sep, text
    path.write_text(f"{head}  production:\n    version: v1.2.0{rest}")


def also_a_record(root: Path) -> None:
    path = root / "registry/cancer/versions/v1.1.0.yaml"
    path.write_text(path.read_text().replace("accuracy: 0.95", "accuracy: 0.99"))


@pytest.mark.parametrize(
    ("edit", "said"),
    [(also_production, "`production`"), (also_a_record, "versions/v1.1.0.yaml")],
    ids=["another-stage", "a-version-record"],
)
def test_a_forged_cli_promotion_that_changes_more_is_reported(
    world: World, tmp_path: Path, edit, said: str
) -> None:
    allow_cli_in_staging(world)
    root = cli_promoted(world, tmp_path, "v1.1.0", "staging")
    forge(root, edit)
    assert "registry: promote cancer v1.1.0 to staging" in git(root, "log", "-1", "--format=%s")
    sha = pushed(world, root, pusher="alice")
    body = tamper_report(world).body or ""
    assert sha in body and said in body, body


def test_a_corrupt_stages_yaml_is_reported_with_the_parse_error(world: World) -> None:
    allow_cli_in_staging(world)
    sha = push_to_main(world, {STAGES: "stages: [oops\n"})
    world.settle()
    body = tamper_report(world).body or ""
    assert sha in body and "is not valid YAML" in body, body


def test_a_policy_opened_in_the_same_push_does_not_admit_its_own_promotion(
    world: World, tmp_path: Path
) -> None:
    # The rules are read where the push began: a push cannot relax what judges it.
    root = checkout(world, tmp_path)
    (root / ".github/mlbot.yml").write_text(OPEN_STAGING)
    git(root, "commit", "-qam", "allow the CLI in staging")
    cli_promote(root, "v1.1.0", "staging")
    pushed(world, root, pusher="alice")
    issue = tamper_report(world)
    assert "`promotion.staging.allow_cli`" in (issue.body or ""), issue.body


def many_commits(root: Path, count: int, *, hand_edit_at: int) -> None:
    """`count` commits on main (one `git fast-import`); the one at `hand_edit_at` (0: the
    oldest) points production at v1.2.0 by hand, the others touch a notes file."""
    forged = git(root, "show", f"HEAD:{STAGES}").replace(
        "production:\n    version: v1.1.0", "production:\n    version: v1.2.0", 1
    )
    head = git(root, "rev-parse", "HEAD").strip()
    lines: list[str] = []
    for i in range(count):
        path, data = (STAGES, forged) if i == hand_edit_at else ("notes.txt", f"note {i}\n")
        blob = data.encode()
        message = f"note {i}\n".encode()
        lines += [
            "commit refs/heads/main",
            f"committer Carol <carol@users.noreply.example> {1767225600 + i} +0000",
            f"data {len(message)}",
            message.decode(),
        ]
        if i == 0:
            lines.append(f"from {head}")
        lines += [f"M 100644 inline {path}", f"data {len(blob)}", blob.decode()]
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"],
        input="\n".join(lines) + "\n",
        text=True,
        check=True,
    )
    git(root, "reset", "-q", "--hard", "main")


def test_a_hand_edit_among_25_pushed_commits_is_reported(world: World, tmp_path: Path) -> None:
    root = checkout(world, tmp_path)
    many_commits(root, 25, hand_edit_at=0)
    pushed(world, root, pusher="carol")
    assert STAGES in (tamper_report(world).body or "")


@pytest.mark.parametrize("at", [0, 2100], ids=["oldest", "newest"])
def test_a_hand_edit_beyond_what_the_push_payload_lists_is_reported(
    world: World, tmp_path: Path, at: int
) -> None:
    # GitHub's payload lists at most 2048 commits; this push brings 2101.
    root = checkout(world, tmp_path)
    many_commits(root, 2101, hand_edit_at=at)
    pushed(world, root, pusher="carol", timeout=240)
    (push,) = [d for d in world.sim.webhooks.deliveries if d.event == "push"]
    assert len(push.payload["commits"]) == 2048
    issue = tamper_report(world)
    assert STAGES in (issue.body or ""), issue.body


def tamper_report_and_a_triager(world: World) -> Issue:
    """The tamper report carol's hand edit opened, and tess, who may triage issues but owns
    no code."""
    world.sim.user("tess")
    world.sim.add_collaborator(world.repo, "tess", "triage")
    hand_edit(world, author="carol")
    world.settle()
    return tamper_report(world)


def test_a_tamper_report_closed_by_someone_who_is_not_a_code_owner_is_reopened(
    world: World,
) -> None:
    issue = tamper_report_and_a_triager(world)
    world.sim.set_issue_state(world.repo, issue.number, "closed", user="tess")
    world.settle()
    still = tamper_report(world)
    assert still.number == issue.number and still.state == "open"
    said = world.bot_comments(issue.number)[-1]
    assert "`tess` is not one" in said and "`alice`" in said, said

    pr = world.open_pr()
    world.review(pr, user="bob")
    reply = ask(world, pr, "/promote cancer v1.2.0 to production")
    assert "tamper" in reply and f"#{issue.number}" in reply, reply

    # A code owner's close acknowledges it: the freeze lifts.
    world.sim.set_issue_state(world.repo, issue.number, "closed", user="bob")
    world.settle()
    assert [i for i in tamper_issues(world) if i.state == "open"] == []


def test_a_tamper_label_removed_by_someone_who_is_not_a_code_owner_is_put_back(
    world: World,
) -> None:
    issue = tamper_report_and_a_triager(world)
    with http(world.sim, "tess") as client:
        gone = client.delete(f"/repos/{world.repo}/issues/{issue.number}/labels/mlbot:tamper")
    assert gone.status_code == 200, gone.text
    world.settle()
    still = tamper_report(world)
    assert still.number == issue.number and "mlbot:tamper" in still.labels
    said = world.bot_comments(issue.number)[-1]
    assert "`mlbot:tamper` restored" in said and "`tess` is not one" in said, said


def test_a_force_push_that_drops_mlbots_registry_commits_is_reported(
    world: World, tmp_path: Path
) -> None:
    incident = world.issue()
    world.comment(incident, "/rollback cancer because incident", user="bob")
    world.settle()
    assert world.live()["production"] == "v1.0.0"
    root = checkout(world, tmp_path)
    git(root, "reset", "-q", "--hard", "HEAD~1")  # before the rollback: v1.1.0 again
    (root / "notes.txt").write_text("nothing to see\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "notes")
    pushed(world, root, pusher="carol", force=True)
    assert world.live()["production"] == "v1.1.0"
    body = tamper_report(world).body or ""
    assert "force-push by `carol`" in body and STAGES in body, body


def test_an_allowed_cli_promotion_during_a_freeze_is_reported(world: World, tmp_path: Path) -> None:
    allow_cli_in_staging(world)
    incident = world.issue()
    world.comment(incident, "/freeze cancer staging because bad data", user="bob")
    world.settle()
    pushed(world, cli_promoted(world, tmp_path, "v1.1.0", "staging"), pusher="alice")
    (frozen,) = [i.number for i in world.sim.issues(world.repo) if "mlbot:incident" in i.labels]
    body = tamper_report(world).body or ""
    assert f"frozen by #{frozen}" in body and "a freeze holds for the CLI too" in body, body
