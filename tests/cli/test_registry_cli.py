"""Exit codes and one-sentence errors: 0 done, 1 refused, 2 usage or input error."""

from __future__ import annotations

import subprocess
import sys


def test_unknown_model_is_a_usage_error(repo):
    res = repo.mlbot("registry", "promote", "nosuch", "v0.1.0", "--to", "staging")
    assert res.code == 2
    assert res.err.strip() == (
        "mlbot: error: model 'nosuch' is not configured in .github/mlbot.yml "
        "(configured: churn, fraud)."
    )


def test_hostile_names_never_reach_git(repo):
    res = repo.mlbot("registry", "promote", "churn;rm -rf /", "v0.1.0", "--to", "staging")
    assert res.code == 2 and "not a valid model name" in res.err
    repo.register()
    res = repo.mlbot("registry", "promote", "churn", "v0.1.0", "--to", "../x")
    assert res.code == 2 and "not a valid stage name" in res.err
    res = repo.mlbot("registry", "promote", "churn", "v0.1.0; true", "--to", "staging")
    assert res.code == 2 and "is not a version" in res.err


def test_gate_refusal_is_exit_1_and_lists_every_failed_check(repo):
    repo.register()
    res = repo.mlbot("registry", "promote", "churn", "v0.1.0", "--to", "production")
    assert res.code == 1
    assert "stage-order: v0.1.0 must pass through staging before production." in res.err


def test_missing_artifact_and_bad_metrics_file(repo):
    res = repo.mlbot("registry", "register", "churn", "--artifact", "/nonexistent/model.bin")
    assert (res.code, res.err.strip()) == (
        2,
        "mlbot: error: artifact /nonexistent/model.bin does not exist.",
    )
    bad = repo.root / "bad.json"
    bad.write_text("{not json")
    res = repo.mlbot(
        "registry",
        "register",
        "churn",
        "--artifact",
        str(repo.artifact("x")),
        "--metrics",
        str(bad),
    )
    assert res.code == 2 and "is not valid JSON" in res.err
    assert repo.git("tag", "--list") == ""


def test_not_a_repository_and_no_config(tmp_path, capsys):
    from bot.cli import main

    assert main(["registry", "show", "--repo", str(tmp_path)]) == 2
    assert "is not a git repository" in capsys.readouterr().err
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert main(["registry", "promote", "m", "v0.1.0", "--to", "s", "--repo", str(tmp_path)]) == 2
    assert "run `mlbot init` first" in capsys.readouterr().err


def test_show_history_and_init_end_to_end(repo):
    repo.register()
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")
    assert "churn  latest v0.1.0  (1 versions)  staging: v0.1.0" in repo.ok("registry", "show").out
    hist = repo.ok("registry", "history", "churn").out
    assert "assignment     v0.1.0 staging  churn#staging#1" in hist


def test_init_scaffolds_a_repo_and_refuses_twice(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    run = [sys.executable, "-m", "bot", "init", "--model", "churn", "--repo", str(tmp_path)]
    first = subprocess.run(run, capture_output=True, text=True)
    assert first.returncode == 0 and "/registry/churn/ @your-org/ml-owners" in first.stdout
    assert (tmp_path / ".github" / "mlbot.yml").is_file()
    second = subprocess.run(run, capture_output=True, text=True)
    assert second.returncode == 2 and "already exists" in second.stderr


def test_policy_check_and_explain(repo):
    assert repo.ok("policy", "check").out.startswith("policy OK: pack 'default', 2 model(s)")
    explain = repo.ok("policy", "explain", "churn").out
    assert "- production: 1 code-owner approval(s), not the requester's own" in explain
    (repo.root / ".github" / "mlbot.yml").write_text("schema: mlbot/v1\npolicy: nosuch\n")
    res = repo.mlbot("policy", "check")
    assert res.code == 1 and "neither a pack" in res.out
