from bot.ml import lineage


def test_data_digests_come_from_dvc_files_and_dvc_lock(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv.dvc").write_text(
        "outs:\n- md5: aaa111\n  size: 10\n  hash: md5\n  path: raw.csv\n"
    )
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n"
        "    - path: data/train.csv\n      md5: bbb222\n    - path: train.py\n      md5: ccc\n"
        "    outs:\n    - path: model.pkl\n      md5: ddd\n"
        "    - path: metrics.json\n      md5: eee\n"
    )
    assert lineage.dvc_data_digests(tmp_path) == {
        "data/raw.csv": "aaa111",
        "data/train.csv": "bbb222",
    }


def test_ci_run_url_only_inside_github_actions():
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "org/repo",
        "GITHUB_RUN_ID": "42",
    }
    assert lineage.ci_run_url(env) == "https://github.com/org/repo/actions/runs/42"
    assert lineage.ci_run_url({**env, "GITHUB_ACTIONS": "false"}) is None
