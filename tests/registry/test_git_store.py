"""The registry on real git repositories: one commit per change, tags, CAS, clean worktree."""

from __future__ import annotations

import itertools
import threading

import pytest

from bot.config.load import load_config, policy_for
from bot.errors import Conflict
from bot.registry import audit
from bot.registry.git_store import GitStore
from bot.registry.service import Registry
from bot.registry.store import Identity


def changed_files(repo, rev="HEAD"):
    return repo.git("show", "--name-only", "--format=", rev).split()


def test_each_operation_is_one_commit_touching_only_registry_files(repo):
    start = repo.head()
    v1 = repo.register(accuracy=0.9)
    assert v1 == "v0.1.0"
    assert repo.git("rev-list", "--count", f"{start}..HEAD").strip() == "1"
    assert changed_files(repo) == ["registry/churn/versions/v0.1.0.yaml"]

    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    assert changed_files(repo) == ["registry/churn/stages.yaml"]
    assert repo.git("log", "-1", "--format=%s").strip() == (
        "registry: promote churn v0.1.0 to staging"
    )
    assert repo.git("rev-list", "--count", f"{start}..HEAD").strip() == "2"
    # The user's checkout stays clean: the files we wrote are checked out as committed.
    assert repo.git("status", "--porcelain", "--", "registry").strip() == ""


def test_registration_without_version_bumps_minor_and_explicit_version_is_kept(repo):
    assert repo.register() == "v0.1.0"
    assert repo.register() == "v0.2.0"
    res = repo.ok(
        "registry",
        "register",
        "churn",
        "--artifact",
        str(repo.artifact("x")),
        "--version",
        "v1.0.0",
        "--json",
    )
    assert res.json()["version"] == "v1.0.0"
    assert repo.register() == "v1.1.0"


def test_patch_bump_policy(tmp_path, capsys):
    from tests.gitrepo import make_repo

    repo = make_repo(tmp_path / "r", capsys, overrides="{registration: {bump: patch}}")
    assert [repo.register(), repo.register()] == ["v0.1.0", "v0.1.1"]


def test_audit_trailers_record_requester_claimed_approvals_evidence_and_refs(repo):
    repo.register()
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    repo.ok(
        "registry",
        "promote",
        "churn",
        "v0.1.0",
        "--to",
        "production",
        "--approved-by",
        "bob",
        "--approved-by",
        "carol",
        "--refs",
        "#42",
    )
    trailers = repo.git("log", "-1", "--format=%(trailers:unfold)").strip().splitlines()
    assert trailers == [
        "Requested-by: Alice Example <alice@example.com>",
        "Refs: #42",
        # Nothing checked these on a local checkout: a claim, never an `Approved-by`.
        "Claimed-approval-by: bob, carol",
    ]
    registration = repo.git(
        "log", "--format=%(trailers:key=Evidence,valueonly)", "-1", "--", "registry/churn/versions"
    ).strip()
    assert registration.startswith("artifact sha256:")


def test_tags_are_annotated_gto_names_with_counters_on_registration_commits(repo):
    repo.register()
    reg_commit = repo.head()
    repo.register()
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    repo.ok("registry", "promote", "churn", "v0.2.0", "--to", "staging")
    tags = repo.git(
        "for-each-ref", "--format=%(refname:strip=2) %(objecttype) %(*objectname)", "refs/tags"
    ).split("\n")
    table = {line.split()[0]: line.split()[1:] for line in tags if line}
    assert set(table) == {"churn@v0.1.0", "churn@v0.2.0", "churn#staging#1", "churn#staging#2"}
    assert all(kind == "tag" for kind, _ in table.values())
    # A stage tag points at the version's registration commit, as GTO resolves it.
    assert table["churn#staging#1"][1] == reg_commit
    assert table["churn@v0.1.0"][1] == reg_commit


def test_tagger_timestamps_strictly_increase_within_a_model(repo):
    for _ in range(3):
        repo.register()
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    repo.ok("registry", "promote", "churn", "v0.2.0", "--to", "staging")
    repo.ok("registry", "rollback", "churn", "--stage", "staging")
    stamps = [
        int(s)
        for s in repo.git(
            "for-each-ref", "--sort=taggerdate", "--format=%(taggerdate:unix)", "refs/tags"
        ).split()
    ]
    assert len(stamps) == 7
    assert all(b > a for a, b in itertools.pairwise(stamps))


def test_rollback_restores_previous_and_writes_demotion_tag(repo):
    repo.register()
    repo.register()
    for v in ("v0.1.0", "v0.2.0"):
        repo.ok("registry", "promote", "churn", v, "--to", "staging")
        repo.ok("registry", "promote", "churn", v, "--to", "production")
    res = repo.ok("registry", "rollback", "churn", "--because", "p99 latency", "--json").json()
    assert (res["previous"], res["version"]) == ("v0.2.0", "v0.1.0")
    assert res["tags"] == ["churn#production!#5", "churn#production#6"]
    show = repo.ok("registry", "show", "--json").json()["models"]["churn"]
    assert show["stages"] == {"staging": "v0.2.0", "production": "v0.1.0"}
    body = repo.git("log", "-1", "--format=%B")
    assert "Reason: p99 latency" in body and "Demoted: v0.2.0" in body


def test_rollback_to_a_named_version_and_refusals(repo):
    for _ in range(3):
        repo.register()
    for v in ("v0.1.0", "v0.2.0", "v0.3.0"):
        repo.ok("registry", "promote", "churn", v, "--to", "staging")
    res = repo.ok(
        "registry", "rollback", "churn", "--stage", "staging", "--to", "v0.1.0", "--json"
    ).json()
    assert res["version"] == "v0.1.0"
    again = repo.mlbot("registry", "rollback", "churn", "--stage", "staging", "--to", "v0.1.0")
    assert again.code == 1 and "already live in staging" in again.err
    nothing = repo.mlbot("registry", "rollback", "churn", "--stage", "production")
    assert nothing.code == 1 and "no version in production" in nothing.err


def test_deprecate_refuses_live_versions_and_blocks_promotion(repo):
    repo.register()
    repo.register()
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    live = repo.mlbot("registry", "deprecate", "churn", "v0.1.0")
    assert live.code == 1 and "live in staging" in live.err
    repo.ok("registry", "deprecate", "churn", "v0.2.0", "--because", "leaky feature")
    assert "churn@v0.2.0!" in repo.git("tag", "--list")
    refused = repo.mlbot("registry", "promote", "churn", "v0.2.0", "--to", "staging")
    assert refused.code == 1 and "deprecated" in refused.err
    show = repo.ok("registry", "show", "--json").json()["models"]["churn"]
    assert show["deprecated"] == ["v0.2.0"] and show["latest"] == "v0.1.0"


def test_uncommitted_edits_to_registry_files_are_never_overwritten(repo):
    repo.register()
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    stages = repo.root / "registry/churn/stages.yaml"
    stages.write_text(stages.read_text() + "# my local note\n")
    head = repo.head()
    res = repo.mlbot("registry", "rollback", "churn", "--stage", "staging", "--to", "v0.1.0")
    assert res.code == 1 and "uncommitted changes" in res.err
    assert repo.head() == head
    assert stages.read_text().endswith("# my local note\n")


def test_user_index_and_other_files_are_untouched(repo):
    (repo.root / "train.py").write_text("print('staged work')\n")
    repo.git("add", "train.py")
    repo.register()
    assert repo.git("diff", "--cached", "--name-only").split() == ["train.py"]
    assert "train.py" not in changed_files(repo)


class RacingStore(GitStore):
    """A real concurrent writer: just before our write lands, another commit lands first."""

    def __init__(self, root, races: int):
        super().__init__(root)
        self.races = races

    def write(self, parent, change, author):
        if self.races:
            self.races -= 1
            other = Registry(GitStore(self.root), lambda m: _policy(self.root, m), author=author)
            other.register(
                "fraud",
                artifact=_artifact(),
                audit_info=audit.Audit(requested_by="racer"),
            )
        return super().write(parent, change, author)


def _policy(root, model):
    return policy_for(load_config(root), model, root)


def _artifact():
    import os

    from bot.registry.schema import Artifact

    return Artifact(uri="m.bin", sha256=os.urandom(32).hex(), size=1)


def test_a_write_that_loses_the_race_rereads_and_retries(repo):
    store = RacingStore(repo.root, races=2)
    reg = Registry(store, lambda m: _policy(repo.root, m), author=Identity("A", "a@x"))
    out = reg.register("churn", artifact=_artifact(), audit_info=audit.Audit(requested_by="a"))
    assert out.attempts == 3
    subjects = repo.git("log", "--format=%s", "-3").splitlines()
    assert subjects == [
        "registry: register churn v0.1.0",
        "registry: register fraud v0.2.0",
        "registry: register fraud v0.1.0",
    ]
    # Linear: every commit has one parent.
    assert all(
        len(line.split()) == 2 for line in repo.git("log", "--format=%H %P", "-3").splitlines()
    )


def test_a_writer_that_keeps_losing_gives_up_cleanly(repo):
    store = RacingStore(repo.root, races=10)
    reg = Registry(
        store, lambda m: _policy(repo.root, m), author=Identity("A", "a@x"), max_attempts=3
    )
    with pytest.raises(Conflict, match="nothing was written"):
        reg.register("churn", artifact=_artifact(), audit_info=audit.Audit(requested_by="a"))
    assert "churn@" not in repo.git("tag", "--list")


def test_concurrent_promotions_leave_a_linear_history(repo):
    for _ in range(4):
        repo.register()
    reg_root = repo.root
    errors: list[Exception] = []

    def promote(version):
        reg = Registry(
            GitStore(reg_root),
            lambda m: _policy(reg_root, m),
            author=Identity("T", "t@x"),
            max_attempts=20,
        )
        try:
            reg.promote("churn", version, "staging", audit_info=audit.Audit(requested_by=version))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=promote, args=(f"v0.{i}.0",)) for i in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    log = repo.git("log", "--format=%H %P", "-4").splitlines()
    assert all(len(line.split()) == 2 for line in log)
    assert repo.ok("registry", "check").out.strip() == "registry OK (in the working tree)"
    counters = sorted(
        int(t.rsplit("#", 1)[1]) for t in repo.git("tag", "--list", "churn#*").split()
    )
    assert counters == [1, 2, 3, 4]
