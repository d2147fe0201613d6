import json

import numpy as np
import pandas as pd
import pytest

from bot.cli import main
from bot.errors import InputError
from bot.ml.drift import detect
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


def test_every_row_is_judged_by_default_and_a_policy_sample_says_so():
    ref, cur = frames(n=3000)
    full = detect(ref, cur, DriftPolicy(), exclude=["label"])
    assert full["sampling"]["note"] == "all rows used"
    assert {c["reference_rows"] for c in full["columns"]} == {3000}
    sampled = detect(ref, cur, DriftPolicy(sample_rows=1000), exclude=["label"])
    assert "reference 1,000 of 3,000 rows" in sampled["sampling"]["note"]
    assert {c["current_rows"] for c in sampled["columns"]} == {1000}


def test_each_column_says_its_test_statistic_threshold_and_effect():
    ref, cur = frames(n=3000, shift=0.5)
    ref["a"] += 10  # a mean far from zero, so a percentage change means something
    cur["a"] += 10
    by_column = {c["column"]: c for c in detect(ref, cur, DriftPolicy())["columns"]}
    a = by_column["a"]
    assert (a["test"], a["method"], a["score_kind"]) == (
        "wasserstein",
        "Wasserstein distance (normed)",
        "distance",
    )
    assert a["threshold"] == 0.1 and a["drifted"] is True
    assert a["effect"]["kind"] == "mean"
    assert a["effect"]["mean_change_pct"] == pytest.approx(5.0, abs=1.0)  # 10 -> 10.5
    assert a["effect"]["mean_change_in_std"] == pytest.approx(0.5, abs=0.1)
    c = by_column["c"]
    assert (c["test"], c["column_type"], c["effect"]["kind"]) == ("jensenshannon", "cat", "share")
    assert c["effect"]["category"] in {"x", "y", "z"}
    small = {c["column"]: c for c in detect(*frames(n=300), DriftPolicy())["columns"]}
    assert small["a"]["score_kind"] == "p_value" and small["a"]["test"] == "ks"


def test_columns_evidently_does_not_test_are_listed_not_counted():
    ref, cur = frames()
    for frame in (ref, cur):
        frame["when"] = pd.date_range("2024-01-01", periods=len(frame), freq="h")
        frame["count"] = np.arange(len(frame), dtype="uint32")
    result = detect(ref, cur, DriftPolicy(), exclude=["label"])
    assert {s["column"]: s["column_type"] for s in result["not_tested"]} == {
        "when": "datetime",
        "count": "unknown",
    }
    assert result["columns_total"] == 3


def test_no_common_columns_and_empty_frames_are_input_errors():
    ref, cur = frames()
    with pytest.raises(InputError, match="no column in common"):
        detect(ref[["a"]], cur[["b"]], DriftPolicy())
    with pytest.raises(InputError, match="current data has no rows"):
        detect(ref, cur.head(0), DriftPolicy())


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
    assert data["dataset_drift"] is True and data["report"] is None
    # drift.json keeps every key its readers (the drift issue, the bot) had before.
    assert {
        "model", "stage", "live_version", "reference", "reference_digest", "current",
        "dataset_drift", "drifted_columns", "columns_total", "share", "policy", "columns",
        "sampling", "only_in_reference", "only_in_current", "report", "generated_at",
    } <= set(data)  # fmt: skip
    assert {"column", "method", "score", "threshold", "drifted"} <= set(data["columns"][0])
    assert {"sample_rows", "reference_rows", "current_rows", "note"} <= set(data["sampling"])
    body = (out / "drift.md").read_text()
    assert "data drift in" in body and "| `a` |" in body
    assert not (out / "report.html").exists()  # the verdict never builds Evidently's report

    html = tmp_path / "report" / "drift.html"
    big_ref, big_cur = frames(n=2500, shift=1.5)
    big_ref.to_parquet(tmp_path / "big_ref.parquet", index=False)
    big_cur.to_csv(tmp_path / "big_cur.csv", index=False)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "mlbot.yml").write_text("overrides:\n  drift: {report_rows: 1000}\n")
    code = main(
        [
            *args,
            "--reference",
            str(tmp_path / "big_ref.parquet"),
            "--current",
            str(tmp_path / "big_cur.csv"),
            "--report",
            str(html),
        ]
    )
    assert code == 1
    data = json.loads((out / "drift.json").read_text())
    assert data["report"] == str(html) and html.stat().st_size > 1000
    assert data["sampling"]["note"] == "all rows used"
    assert data["report_sampling"]["reference_used"] == 1000
    assert "sampled uniformly at random" in data["report_sampling"]["note"]
    assert "drift.html" in (out / "drift.md").read_text()
    assert "report: sampled uniformly at random" in capsys.readouterr().out

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
