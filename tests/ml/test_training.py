import json
import subprocess

import pytest

from bot.cli import main

CONFIG = """\
schema: mlbot/v1
models:
  tiny:
    path: code
    train: python train.py {arg}
    artifact: code/model.pkl
    metrics: code/metrics.json
    params: code/params.yaml
"""

TRAIN = """\
import json, pickle, sys
from sklearn.dummy import DummyClassifier
if sys.argv[1:] == ["fail"]:
    print("loading data..."); print("boom: the data is gone", file=sys.stderr); sys.exit(3)
if sys.argv[1:] != ["skip"]:
    pickle.dump(DummyClassifier().fit([[0], [1]], [0, 1]), open("model.pkl", "wb"))
json.dump({"accuracy": 0.5}, open("metrics.json", "w"))
"""


def make_repo(tmp_path, arg=""):
    root = tmp_path / "repo"
    (root / ".github").mkdir(parents=True)
    (root / "code").mkdir()
    (root / ".github" / "mlbot.yml").write_text(CONFIG.format(arg=arg))
    (root / "code" / "train.py").write_text(TRAIN)
    (root / "code" / "params.yaml").write_text("lr: 0.1\nlayers: {n: 2}\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init"],
        cwd=root,
        check=True,
    )
    return root


def test_a_plain_training_command_gives_a_candidate(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = make_repo(tmp_path)
    assert main(["train", "--repo", str(root)]) == 0
    cand = json.loads((root / "candidate.json").read_text())
    assert cand["model"] == "tiny"
    assert cand["metrics"] == {"accuracy": 0.5}
    assert cand["params"] == {"lr": 0.1, "layers": {"n": 2}}
    assert cand["artifact"]["path"] == "code/model.pkl" and cand["artifact"]["size"] > 0
    assert cand["lineage"]["commit"] and cand["lineage"]["data"] == {}
    assert (root / ".mlbot" / "mlruns").is_dir()


def test_a_failing_training_shows_the_end_of_its_log(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = make_repo(tmp_path, "fail")
    assert main(["train", "--repo", str(root)]) == 1
    err = capsys.readouterr().err
    assert "training failed (exit 3)" in err and "boom: the data is gone" in err
    assert not (root / "candidate.json").exists()


def test_training_that_writes_no_artifact_is_an_input_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = make_repo(tmp_path, "skip")
    assert main(["train", "--repo", str(root)]) == 2
    assert "wrote no artifact at code/model.pkl" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["nope"])
def test_unknown_model_is_an_input_error(tmp_path, name, capsys):
    root = make_repo(tmp_path)
    assert main(["train", name, "--repo", str(root)]) == 2
    assert "not configured" in capsys.readouterr().err
