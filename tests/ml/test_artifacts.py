import pickle

import pytest
from sklearn.dummy import DummyClassifier

from bot.errors import InputError
from bot.ml import artifacts, tracking


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "repo" / "model.pkl"
    path.parent.mkdir()
    path.write_bytes(pickle.dumps(DummyClassifier().fit([[0], [1]], [0, 1])))
    return path


def test_relative_and_file_uris_resolve_and_verify(model_file):
    root = model_file.parent
    sha, _ = artifacts.file_digest(model_file)
    assert artifacts.fetch_verified("model.pkl", sha, root, "production") == model_file
    assert artifacts.fetch_verified(model_file.as_uri(), sha, root, "production") == model_file
    assert hasattr(artifacts.load_model(model_file, "production"), "predict")


def test_mlflow_run_uri_resolves_from_the_local_store(model_file, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = model_file.parent
    run = tracking.TrainingRun(root, experiment="m")
    uri = run.log(params={"a": {"b": 1}}, metrics={"acc": 0.5}, tags={}, artifact=model_file)
    run.finish(True)
    assert uri == f"runs:/{run.run.run_id}/model/model.pkl"
    model_file.unlink()  # the working copy is gone: the run keeps the registered bytes
    sha = artifacts.file_digest(artifacts.resolve(uri, root, tmp_path / "dl1"))[0]
    got = artifacts.fetch_verified(uri, sha, root, "production", tmp_path / "dl2")
    assert hasattr(artifacts.load_model(got, "production"), "predict")


def test_altered_missing_and_corrupted_artifacts_are_errors(model_file):
    root = model_file.parent
    sha, _ = artifacts.file_digest(model_file)
    with pytest.raises(InputError, match="is missing"):
        artifacts.fetch_verified("gone.pkl", sha, root, "production")
    model_file.write_bytes(model_file.read_bytes()[:-5])
    with pytest.raises(InputError, match="does not match its recorded digest"):
        artifacts.fetch_verified("model.pkl", sha, root, "production")
    with pytest.raises(InputError, match="cannot be loaded"):
        artifacts.load_model(model_file, "production")
    model_file.write_text("hello")
    with pytest.raises(InputError, match="not a pickled model"):
        artifacts.load_model(model_file, "production")
    with pytest.raises(InputError, match="not supported"):
        artifacts.resolve("s3://bucket/model.pkl", root)
