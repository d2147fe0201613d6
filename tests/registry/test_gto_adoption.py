"""A registry written only by PyPI `gto`, read and then written by mlbot.

The repository is built with the real `gto` CLI (its console-script entry
point, `gto.cli:app`, run in this process: a `gto` process costs a second of
imports per call) (register, assign in both
notations, unassign, deregister, deprecate); `gto show --json` and
`gto history --json` are the judges of what mlbot reads, before and after
mlbot writes to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.gitrepo import ModelRepo, git

gto_cli = pytest.importorskip("gto.cli", reason="gto is not installed (dev extra)")
click_testing = pytest.importorskip("click.testing")

DVC_YAML = """\
artifacts:
  churn:
    path: models/churn.pkl
    type: model
  fraud:
    path: models/fraud.pkl
    type: model
metrics:
  - metrics.json
"""

MLBOT_YML = """\
schema: mlbot/v1
policy: default
overrides:
  stages: [dev, staging, prod]
models:
  churn:
    path: models
  fraud:
    path: models
  cv-class:
    path: models
"""


def run_gto(root: Path, *args: str) -> str:
    result = click_testing.CliRunner().invoke(gto_cli.app, [*args, "--repo", str(root)])
    assert result.exit_code == 0, f"gto {' '.join(args)}: {result.output}"
    return result.stdout


def gto_json(root: Path, *args: str):
    return json.loads(run_gto(root, *args, "--json"))


def gto_write(root: Path, *args: str) -> None:
    """One gto command, alone in its second: gto orders events by whole-second tag dates."""
    run_gto(root, *args)
    time.sleep(1 - time.time() % 1 + 0.01)


def commit(root: Path, message: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def gto_repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gto") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Gina Gto")
    git(root, "config", "user.email", "gina@example.com")
    files = {
        "dvc.yaml": DVC_YAML,
        "params.yaml": "n_estimators: 100\n",
        "metrics.json": '{"auc": 0.80, "train": {"loss": 0.5}}',
        "models/churn.pkl": "churn weights 1",
        "models/fraud.pkl": "fraud weights 1",
    }
    commit(root, "first model", files)
    gto_write(root, "register", "churn", "HEAD", "--version", "v3.0.0")
    gto_write(root, "register", "fraud", "HEAD")
    commit(
        root,
        "better churn",
        {"models/churn.pkl": "churn weights 2", "metrics.json": '{"auc": 0.85}'},
    )
    gto_write(root, "register", "churn", "HEAD", "--bump-minor")  # v3.1.0
    gto_write(root, "register", "cv-class", "HEAD")
    gto_write(root, "assign", "churn", "--version", "v3.0.0", "--stage", "staging")
    gto_write(root, "assign", "churn", "--version", "v3.0.0", "--stage", "prod", "--simple", "true")
    gto_write(root, "assign", "churn", "--version", "v3.1.0", "--stage", "staging")
    gto_write(root, "assign", "churn", "--version", "v3.1.0", "--stage", "prod")
    commit(root, "churn experiment", {"models/churn.pkl": "churn weights 3"})
    gto_write(root, "register", "churn", "HEAD")  # v3.1.1
    gto_write(root, "assign", "churn", "--version", "v3.1.1", "--stage", "dev")
    gto_write(root, "deprecate", "churn", "v3.1.1", "dev")  # unassignment: churn#dev!#N
    gto_write(root, "deprecate", "churn", "v3.1.1")  # deregistration: churn@v3.1.1!
    gto_write(root, "assign", "fraud", "--version", "v0.0.1", "--stage", "prod")
    commit(root, "fraud retrained", {"models/fraud.pkl": "fraud weights 2"})
    gto_write(root, "register", "fraud", "HEAD")  # v0.0.2
    gto_write(root, "assign", "fraud", "--version", "v0.0.2", "--stage", "prod")
    # gto then treats prod as running v0.0.1 again: the newest live assignment.
    gto_write(root, "deprecate", "fraud", "v0.0.2")
    gto_write(root, "deprecate", "cv-class")  # the whole artifact: cv-class@deprecated
    return root


@pytest.fixture
def repo(gto_repo, tmp_path, capsys) -> ModelRepo:
    root = tmp_path / "repo"
    shutil.copytree(gto_repo, root, symlinks=True)
    return ModelRepo(root, capsys)


def adopt(repo: ModelRepo) -> None:
    commit(repo.root, "adopt mlbot", {".github/mlbot.yml": MLBOT_YML})


def assert_show_agrees(repo: ModelRepo) -> dict:
    ours = repo.ok("registry", "show", "--json").json()["models"]
    theirs = gto_json(repo.root, "show")
    assert set(ours) == {n for n, info in theirs.items() if info["registered"]}
    for name, info in ours.items():
        assert info["latest"] == theirs[name]["version"], name
        live = {s: v for s, v in theirs[name]["stage"].items() if v is not None}
        assert info["stages"] == live, name
    return ours


def tag_objects(repo: ModelRepo) -> str:
    return repo.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/tags")


def test_show_agrees_with_gto_on_every_artifact(repo):
    ours = assert_show_agrees(repo)
    assert ours["churn"]["stages"] == {"staging": "v3.1.0", "prod": "v3.1.0"}
    assert ours["churn"]["latest"] == "v3.1.0"  # v3.1.1 was deregistered
    assert ours["churn"]["deprecated"] == ["v3.1.1"]
    assert ours["churn"]["from_tags"] == ["v3.0.0", "v3.1.0", "v3.1.1"]
    assert ours["fraud"]["stages"] == {"prod": "v0.0.1"}
    assert "cv-class" not in ours  # cv-class@deprecated hides it, as in gto show
    hidden = repo.ok("registry", "show", "--json", "--deprecated").json()["models"]
    assert hidden["cv-class"]["active"] is False
    text = repo.ok("registry", "show").out
    assert "known only from GTO tags" in text and "mlbot registry import" in text


def test_history_has_gto_history_fields(repo):
    for model in ("churn", "fraud", "cv-class"):
        ours = repo.ok("registry", "history", model, "--json").json()
        theirs = list(reversed(gto_json(repo.root, "history", model)))
        assert [{k: e[k] for k in theirs[0]} for e in ours] == theirs, model
    churn = repo.ok("registry", "history", "churn", "--json").json()
    simple = next(e for e in churn if e["ref"] == "churn#prod")
    assert simple["requested_by"] == "Gina Gto <gina@example.com>"
    assert simple["registry_commit"] is None


def test_check_passes_and_names_versions_from_tags(repo):
    res = repo.mlbot("registry", "check")
    assert res.code == 0, res.out
    assert "info: tag churn@v3.0.0: registers churn v3.0.0, which has no record yet" in res.out
    assert res.out.strip().endswith("registry OK (in the working tree)")
    data = repo.ok("registry", "check", "--json").json()
    assert data["ok"] is True and data["problems"] == [] and len(data["info"]) == 6
    repo.git("tag", "-a", "Churn_Model@v1.0.0", "-m", "gto allows this name, mlbot does not")
    res = repo.mlbot("registry", "check")
    assert (
        res.code == 0
        and "info: tag Churn_Model@v1.0.0: is a GTO tag mlbot does not read" in res.out
    )


def test_import_writes_every_record_in_one_commit_and_no_tag(repo):
    before_tags, before_head = tag_objects(repo), repo.head()
    before_show = gto_json(repo.root, "show")
    out = repo.ok("registry", "import").out
    assert "imported 6 version record(s)" in out and "no tag was changed" in out
    assert repo.git("rev-parse", "HEAD~1").strip() == before_head  # one commit
    assert tag_objects(repo) == before_tags
    assert gto_json(repo.root, "show") == before_show

    record = repo.git("show", "HEAD:registry/churn/versions/v3.0.0.yaml")
    tagged_at = repo.git("rev-list", "-n1", "churn@v3.0.0").strip()
    blob = repo.git("show", f"{tagged_at}:models/churn.pkl").encode()
    assert f"sha256: {hashlib.sha256(blob).hexdigest()}" in record
    assert "source: gto-tag" in record and "tag: churn@v3.0.0" in record
    assert "auc: 0.8" in record and "train.loss: 0.5" in record and "n_estimators: 100" in record
    assert "declared_in: dvc.yaml" in record

    res = repo.mlbot("registry", "check", "--committed")
    assert res.code == 0 and "info:" not in res.out, res.out
    assert assert_show_agrees(repo)["churn"]["from_tags"] == []
    assert repo.ok("registry", "import").out.startswith("nothing to import")


def test_mlbot_continues_numbering_promotes_and_rolls_back_to_gto_versions(repo):
    adopt(repo)
    assert repo.register("churn") == "v3.2.0"  # above GTO's highest, v3.1.1 (deregistered)
    repo.ok("registry", "promote", "churn", "v3.2.0", "--to", "staging")
    repo.ok("registry", "promote", "churn", "v3.2.0", "--to", "prod")
    assert_show_agrees(repo)
    res = repo.ok("registry", "rollback", "churn", "--stage", "prod", "--json").json()
    assert (res["previous"], res["version"]) == ("v3.2.0", "v3.1.0")
    assert assert_show_agrees(repo)["churn"]["stages"] == {"staging": "v3.2.0", "prod": "v3.1.0"}
    # A version that was live in prod only in GTO's time is still a rollback target.
    res = repo.ok("registry", "rollback", "churn", "--stage", "prod", "--to", "v3.0.0", "--json")
    assert res.json()["version"] == "v3.0.0"
    assert assert_show_agrees(repo)["churn"]["stages"]["prod"] == "v3.0.0"
    # A GTO-only version promotes like any other, and gto reads the result.
    repo.ok("registry", "promote", "churn", "v3.0.0", "--to", "staging")
    assert assert_show_agrees(repo)["churn"]["stages"]["staging"] == "v3.0.0"
    res = repo.mlbot("registry", "check")
    assert res.code == 0, res.out
    history = repo.ok("registry", "history", "churn", "--json").json()
    theirs = list(reversed(gto_json(repo.root, "history", "churn")))
    assert [{k: e[k] for k in theirs[0]} for e in history] == theirs


def test_stage_history_keeps_the_gto_era(repo):
    adopt(repo)
    repo.ok("registry", "promote", "churn", "v3.0.0", "--to", "prod")
    stages = repo.git("show", "HEAD:registry/churn/stages.yaml")
    # The GTO-era entries of prod are in the file mlbot wrote, newest first.
    prod = stages.split("prod:", 1)[1]
    assert prod.index("version: v3.0.0") < prod.index("version: v3.1.0")
    assert "by: Gina Gto <gina@example.com>" in prod


def test_policy_stages_from_the_repository(repo):
    adopt(repo)
    out = repo.ok("policy", "check").out
    assert "note: promotion.production dropped: production is not one of the stages" in out
    assert "baseline_stage: production is not a stage" in out
    assert "stages: dev -> staging -> prod" in out


def test_read_only_commands_on_a_detached_head(repo):
    repo.git("checkout", "-q", "--detach", "HEAD")
    assert repo.ok("registry", "show", "--json").json()["models"]["churn"]["latest"] == "v3.1.0"
    assert repo.ok("registry", "history", "churn", "--json").json()
    assert repo.mlbot("registry", "check").code == 0
    res = repo.mlbot("registry", "import")
    assert res.code == 2 and "HEAD is detached" in res.err


def test_check_reads_the_working_tree_and_names_uncommitted_files(repo):
    repo.ok("registry", "import")
    path = repo.root / "registry/churn/versions/v3.0.0.yaml"
    path.write_text(path.read_text().replace("auc: 0.8", "auc: 0.99"))
    res = repo.mlbot("registry", "check")
    assert res.code == 1
    assert "info: registry/churn/versions/v3.0.0.yaml: not committed" in res.out
    assert "v3.0.0.yaml: differs from the record derived from tag churn@v3.0.0" in res.out
    assert repo.mlbot("registry", "check", "--committed").code == 0


def test_init_reads_the_repository_and_imports_gto_versions(repo):
    before = tag_objects(repo)
    out = repo.ok("init").out
    assert "models: churn, cv-class, fraud" in out
    assert "stages (from the GTO tags): dev -> staging -> prod" in out
    assert "imported 6 GTO version record(s)" in out
    config = (repo.root / ".github" / "mlbot.yml").read_text()
    assert "stages: [dev, staging, prod]" in config
    churn = config.split("  churn:", 1)[1].split("  cv-class:", 1)[0]
    assert "artifact: models/churn.pkl" in churn and "path: models\n" in churn
    assert "metrics: metrics.json" in churn and "params: params.yaml" in churn
    assert tag_objects(repo) == before
    commit(repo.root, "adopt mlbot", {})
    assert "policy OK" in repo.ok("policy", "check").out
    explain = repo.ok("policy", "explain", "churn").out
    assert "- prod: 1 code-owner approval(s), not the requester's own" in explain
    assert "having been in staging" in explain
    assert repo.mlbot("registry", "check").code == 0
    assert_show_agrees(repo)


def test_a_tag_pushed_on_an_unreviewed_commit_is_no_version(repo):
    """A tag needs no review: one on a commit that is not on the branch must not become a version.

    Otherwise anyone who can push a tag could register a model whose metrics they wrote
    (and, before stages.yaml exists, assign it a stage) without a pull request.
    """
    adopt(repo)
    main = repo.head()
    repo.git("checkout", "-q", "-b", "evil")
    forged = commit(repo.root, "forged", {"metrics.json": '{"auc": 0.999}'})
    repo.git("checkout", "-q", "main")
    repo.git("tag", "-a", "churn@v9.0.0", "-m", "looks legit", forged)
    repo.git("tag", "-a", "churn#prod#99", "-m", "assign", forged)
    assert repo.head() == main
    shown = repo.ok("registry", "show", "--json").json()["models"]["churn"]
    assert "v9.0.0" not in shown["versions"] and shown["stages"]["prod"] == "v3.1.0"
    res = repo.mlbot("registry", "promote", "churn", "v9.0.0", "--to", "staging")
    assert res.code == 2 and "has no version v9.0.0" in res.err
    res = repo.mlbot("registry", "check")
    assert res.code == 1
    assert "tag churn@v9.0.0: registers churn v9.0.0 at commit" in res.out
    assert "which is not on main" in res.out
    # Merged (reviewed), the same tag is a version.
    repo.git("merge", "-q", "--ff-only", "evil")
    assert "v9.0.0" in repo.ok("registry", "show", "--json").json()["models"]["churn"]["versions"]


def test_a_gto_version_is_a_diff_baseline(repo):
    adopt(repo)
    current = str(repo.root / "metrics.json")
    res = repo.ok("diff", "churn", "--version", "v3.0.0", "--metrics", current, "--json")
    auc = res.json()["metrics.json"]["auc"]  # v3.0.0's metrics, read at its GTO commit
    assert (auc["old"], auc["new"], auc["diff"]) == (0.8, 0.85, pytest.approx(0.05))
    res = repo.ok("diff", "churn", "--stage", "prod", "--metrics", current, "--all")
    assert res.json()["metrics.json"]["auc"]["old"] == 0.85  # v3.1.0, live in prod


def test_gto_writes_after_adoption_are_reported_by_check(repo):
    repo.ok("registry", "import")
    gto_write(repo.root, "deprecate", "churn", "v3.0.0")
    gto_write(repo.root, "assign", "churn", "--version", "v3.1.0", "--stage", "dev")
    res = repo.mlbot("registry", "check")
    assert res.code == 1
    assert (
        "registry/churn/stages.yaml: does not say v3.0.0 is deprecated, but tag "
        "churn@v3.0.0! does (gto reads the tags)." in res.out
    )
    assert "stages.yaml: says dev runs nothing, but the tags say v3.1.0." in res.out


def test_tags_of_one_second_are_ordered_as_gto_orders_them(tmp_path, capsys):
    """Scripted gto calls put several tags in one second: gto then orders them by name."""
    root = tmp_path / "tie"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Gina Gto")
    git(root, "config", "user.email", "gina@example.com")
    c1 = commit(root, "one", {"m.pkl": "1"})
    c2 = commit(root, "two", {"m.pkl": "2"})
    for second, (name, target) in [
        (0, ("churn@v1.0.0", c1)),
        (1, ("churn@v2.0.0", c2)),
        (2, ("churn#prod#1", c2)),
        (3, ("churn#prod#2", c1)),
        # One second, two tags: gto takes the unassignment as the newer event (whatever
        # the names' order), so prod falls back to v2.0.0.
        (4, ("churn#prod#3", c1)),
        (4, ("churn#prod!#4", c1)),
    ]:
        env = {"GIT_COMMITTER_DATE": f"{1_700_000_000 + second} +0000"}
        subprocess.run(
            ["git", "-C", str(root), "tag", "-a", name, "-m", name, target],
            check=True,
            env={**os.environ, **env},
        )
    theirs = gto_json(root, "show")["churn"]["stage"]
    ours = ModelRepo(root, capsys).ok("registry", "show", "--json").json()["models"]["churn"]
    assert theirs == {"prod": "v2.0.0"} and ours["stages"] == {"prod": "v2.0.0"}
