import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from bot.errors import InputError
from bot.ml.scoring import score


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=(n, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["group"] = np.where(np.arange(n) % 2 == 0, "even", "odd")
    # The odd group's labels are noisy: its accuracy must be lower, so the gap is real.
    noise = np.where(frame["group"] == "odd", rng.normal(scale=2.0, size=n), 0)
    frame["y"] = (x[:, 0] + noise > 0).astype(int)
    model = LogisticRegression().fit(frame[["a", "b", "c"]], frame["y"])
    return model, frame


def test_classification_metrics_and_slice_gap(data):
    model, frame = data
    scores = score(model, frame, target="y", task="classification", group_columns=["group"])
    assert set(scores.metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    groups = scores.slices["accuracy"]["groups"]
    assert groups["even"] > groups["odd"]
    assert scores.slices["accuracy"]["gap"] == pytest.approx(groups["even"] - groups["odd"])
    assert scores.rows == 300


def test_same_model_same_rows_same_numbers(data):
    model, frame = data
    one = score(model, frame, target="y", task="classification", group_columns=["group"])
    two = score(model, frame.copy(), target="y", task="classification", group_columns=["group"])
    assert one == two


def test_regression_metrics():
    frame = pd.DataFrame({"x": np.arange(50.0), "y": 2 * np.arange(50.0) + 1})
    model = LinearRegression().fit(frame[["x"]], frame["y"])
    scores = score(model, frame, target="y", task="regression")
    assert scores.metrics["r2"] == pytest.approx(1.0)
    assert scores.metrics["rmse"] == pytest.approx(0.0, abs=1e-6)
    assert scores.slices == {}


def test_missing_values_missing_columns_and_no_label_are_clear_errors(data):
    model, frame = data
    with_nan = frame.copy()
    with_nan.loc[3, "b"] = np.nan
    with pytest.raises(InputError, match=r"missing values \(NaN\) in b"):
        score(model, with_nan, target="y", task="classification")
    with pytest.raises(InputError, match="lacks 1 feature column"):
        score(model, frame.drop(columns=["c"]), target="y", task="classification")
    with pytest.raises(InputError, match="no label column 'y'"):
        score(model, frame.drop(columns=["y"]), target="y", task="classification")
    with pytest.raises(InputError, match="no rows"):
        score(model, frame.head(0), target="y", task="classification")
    wrong_type = frame.assign(a="text")
    with pytest.raises(InputError, match="cannot score"):
        score(model, wrong_type, target="y", task="classification")
