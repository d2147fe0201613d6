"""PyPI `gto` reads an mlbot registry unchanged: show and history agree with mlbot's."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GTO = Path(sys.executable).with_name("gto")
pytestmark = pytest.mark.skipif(
    not GTO.exists() and shutil.which("gto") is None, reason="gto is not installed (dev extra)"
)


def gto(root: Path, *args: str):
    exe = str(GTO) if GTO.exists() else "gto"
    out = subprocess.run(
        [exe, *args, "--repo", str(root)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def build_story(repo):
    for _ in range(3):
        repo.register("churn")
    repo.register("fraud")
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "production")
    repo.ok("registry", "promote", "churn", "v0.2.0", "--to", "staging")
    repo.ok("registry", "promote", "churn", "v0.2.0", "--to", "production")
    repo.ok("registry", "rollback", "churn", "--because", "incident 7")
    repo.ok("registry", "deprecate", "churn", "v0.3.0")
    repo.ok("registry", "promote", "fraud", "v0.1.0", "--to", "staging")


def test_gto_show_agrees_with_mlbot_show(repo):
    build_story(repo)
    ours = repo.ok("registry", "show", "--json").json()["models"]
    theirs = gto(repo.root, "show", "--json")
    assert set(theirs) == set(ours) == {"churn", "fraud"}
    for name, info in ours.items():
        assert theirs[name]["version"] == info["latest"], name
        # gto lists every stage seen in the repository, with null where a model has none.
        live = {stage: v for stage, v in theirs[name]["stage"].items() if v is not None}
        assert live == info["stages"], name
    assert ours["churn"]["stages"] == {"staging": "v0.2.0", "production": "v0.1.0"}
    assert ours["churn"]["latest"] == "v0.2.0"  # v0.3.0 is deprecated


def test_gto_history_agrees_with_mlbot_history(repo):
    build_story(repo)
    for model in ("churn", "fraud"):
        ours = repo.ok("registry", "history", model, "--json").json()
        theirs = list(reversed(gto(repo.root, "history", model, "--json")))
        key = ("timestamp", "event", "version", "stage", "ref")
        assert [{k: e.get(k) for k in key} for e in theirs] == [
            {
                "timestamp": e["timestamp"],
                "event": e["event"],
                "version": e["version"],
                "stage": e["stage"],
                "ref": e["tag"],
            }
            for e in ours
        ]
    churn = repo.ok("registry", "history", "churn", "--json").json()
    rollback = next(e for e in churn if e["tag"] == "churn#production#6")
    assert (
        rollback["registry_commit"]
        == repo.git("log", "-1", "--format=%H", "--grep", "roll back").strip()
    )


def test_no_name_at_created_tag_and_one_version_per_commit(repo):
    build_story(repo)
    names = repo.git("tag", "--list").split()
    assert not [n for n in names if n.endswith("@created")]
    rows = repo.git(
        "for-each-ref", "--format=%(refname:strip=2) %(*objectname)", "refs/tags/*@v*"
    ).splitlines()
    # Deprecation tags (name@vX!) point at the registration commit on purpose.
    regs = [commit for name, commit in (r.split() for r in rows) if not name.endswith("!")]
    assert len(regs) == 4 and len(set(regs)) == 4  # churn x3, fraud x1
