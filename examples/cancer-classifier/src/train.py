"""Train the classifier: scaled features, logistic regression. Deterministic.

mlbot runs this through `dvc repro train`, logs params, metrics and the model
to MLflow, and evaluates the model on the holdout set itself.
"""

import json
import pickle
from pathlib import Path

import pandas as pd
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

NOT_FEATURES = {"target", "site"}


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    frame = pd.read_csv("data/train.csv")
    features = [c for c in frame.columns if c not in NOT_FEATURES]
    x, y = frame[features], frame["target"]
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(
            C=params["C"], max_iter=params["max_iter"], class_weight=params["class_weight"]
        ),
    )
    cv = cross_val_score(model, x, y, cv=5, scoring="accuracy")
    model.fit(x, y)
    Path("model").mkdir(exist_ok=True)
    with open("model/model.pkl", "wb") as fh:
        pickle.dump(model, fh)
    metrics = {
        "train_accuracy": round(float(accuracy_score(y, model.predict(x))), 6),
        "cv_accuracy": round(float(cv.mean()), 6),
    }
    Path("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
