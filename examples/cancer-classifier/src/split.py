"""Split the raw data into training and holdout sets, stratified on the label and site."""

from pathlib import Path

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
    frame = pd.read_csv("data/cancer.csv")
    strata = frame["target"].astype(str) + "/" + frame["site"]
    train, holdout = train_test_split(
        frame,
        test_size=params["holdout_fraction"],
        random_state=params["seed"],
        stratify=strata,
    )
    train.to_csv("data/train.csv", index=False)
    holdout.to_csv("data/holdout.csv", index=False)
    print(f"train {len(train)} rows, holdout {len(holdout)} rows")


if __name__ == "__main__":
    main()
