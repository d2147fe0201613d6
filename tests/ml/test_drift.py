import json

import numpy as np
import pandas as pd
import pytest

from bot.cli import main
from bot.errors import InputError
from bot.ml.drift import detect, prepare
from bot.policy.schema import DriftPolicy


def frames(n=400, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "c": rng.choice(["x", "y", "z"], size=n),
            "label": rng.integers(0, 2, size=n),
        }
    )
    rng2 = np.random.default_rng(seed + 1)
    cur = pd.DataFrame(
        {
            "a": rng2.normal(loc=shift, size=n),
            "b": rng2.normal(loc=shift, size=n),
            "c": rng2.choice(["x", "y", "z"], size=n),
            "label": rng2.integers(0, 2, size=n),
        }
    )
    return ref, cur


def test_shifted_columns_drift_and_the_dataset_verdict_follows_the_policy_share():
    ref, cur = frames(shift=1.5)
    result = detect(ref, cur, DriftPolicy(share=0.5), exclude=["label"])
    by_column = {c["column"]: c for c in result["columns"]}
    assert set(by_column) == {"a", "b", "c"}
    assert by_column["a"]["drifted"] and by_column["b"]["drifted"]
    assert not by_column["c"]["drifted"]
    assert result["drifted_columns"] == 2
    assert result["dataset_drift"] is True
    assert by_column["a"]["method"] and by_column["a"]["score"] is not None
    strict = detect(ref, cur, DriftPolicy(share=0.9), exclude=["label"])
    assert strict["dataset_drift"] is False


def test_same_distribution_does_not_drift():
    ref, cur = frames(shift=0.0)
    result = detect(ref, cur, DriftPolicy(), exclude=["label"])
    assert result["dataset_drift"] is False


def test_sampling_follows_the_policy_and_says_so():
    ref, cur = frames(n=3000)
    prepared = prepare(ref, cur, DriftPolicy(sample_rows=1000))
    assert len(prepared.reference) == 1000 and len(prepared.current) == 1000
    assert "1,000 of 3,000 rows" in prepared.sampling["note"]
    assert prepare(ref, cur, DriftPolicy(sample_rows=None)).sampling["note"] == "all rows used"


def test_no_common_columns_and_empty_frames_are_input_errors():
    ref, cur = frames()
    with pytest.raises(InputError, match="no column in common"):
        prepare(ref[["a"]], cur[["b"]], DriftPolicy())
    with pytest.raises(InputError, match="current data has no rows"):
        prepare(ref, cur.head(0), DriftPolicy())


def test_cli_writes_json_markdown_and_html_with_exit_codes(tmp_path, capsys):
    ref, cur = frames(shift=1.5)
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_parquet(tmp_path / "cur.parquet", index=False)
    out = tmp_path / "out"
    args = ["drift", "--repo", str(tmp_path), "--out-dir", str(out)]
    code = main(
        [
            *args,
            "--reference",
            str(tmp_path / "ref.csv"),
            "--current",
            str(tmp_path / "cur.parquet"),
        ]
    )
    assert code == 1
    data = json.loads((out / "drift.json").read_text())
    assert data["dataset_drift"] is True
    body = (out / "drift.md").read_text()
    assert "Data drift detected" in body and "| `a` |" in body and "report.html" in body
    assert (out / "report.html").stat().st_size > 1000

    ref.to_csv(tmp_path / "same.csv", index=False)
    assert (
        main(
            [
                *args,
                "--reference",
                str(tmp_path / "ref.csv"),
                "--current",
                str(tmp_path / "same.csv"),
            ]
        )
        == 0
    )

    (tmp_path / "empty.csv").write_text("")
    assert (
        main(
            [
                *args,
                "--reference",
                str(tmp_path / "ref.csv"),
                "--current",
                str(tmp_path / "empty.csv"),
            ]
        )
        == 2
    )
    assert "is empty" in capsys.readouterr().err
    pd.DataFrame({"zzz": [1, 2]}).to_csv(tmp_path / "other.csv", index=False)
    assert (
        main(
            [
                *args,
                "--reference",
                str(tmp_path / "ref.csv"),
                "--current",
                str(tmp_path / "other.csv"),
            ]
        )
        == 2
    )
    assert "no column in common" in capsys.readouterr().err
    assert (
        main(
            [
                *args,
                "--reference",
                str(tmp_path / "nope.csv"),
                "--current",
                str(tmp_path / "same.csv"),
            ]
        )
        == 2
    )
