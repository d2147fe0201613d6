"""mlbot's drift verdicts against Evidently's DataDriftPreset, column by column.

Each case runs the real preset (its report, tests and all) on pandas frames and
`mlbot drift`'s detection on the same data, and requires every column's method,
score, threshold and drifted flag, and the dataset verdict, to be the preset's.
Frames mix the column kinds Evidently types differently (floats, low- and
high-cardinality integers, strings, booleans, text), with nulls, infinities and
constant columns, tiny (Evidently's small-sample tests) and large.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from bot.errors import InputError
from bot.ml.drift import detect, opened
from bot.policy.schema import DriftPolicy


def preset(reference: pd.DataFrame, current: pd.DataFrame, policy: DriftPolicy):
    """Per column (method, score, threshold, drifted) and the drifted share, from the preset."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    kwargs = {"drift_share": policy.share}
    if policy.method != "auto":
        kwargs["method"] = policy.method
    if policy.column_threshold is not None:
        kwargs["threshold"] = policy.column_threshold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset(**kwargs)], include_tests=True).run(
            current_data=current, reference_data=reference
        )
    data = snapshot.dict()
    failed = {
        t["metric_config"]["metric_id"]: t["status"] == "FAIL"
        for t in data["tests"]
        if t.get("metric_config", {}).get("metric_id")
    }
    columns, share, dataset_failed = {}, None, None
    for metric in data["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = (
                config["method"],
                float(metric["value"]),
                config["threshold"],
                failed[metric["id"]],
            )
        elif config["type"].endswith("DriftedColumnsCount"):
            share, dataset_failed = metric["value"]["share"], failed[metric["id"]]
    return columns, share, dataset_failed


def assert_agrees(result: dict, reference: pd.DataFrame, current: pd.DataFrame, policy):
    columns, share, dataset_failed = preset(reference, current, policy)
    ours = {c["column"]: c for c in result["columns"]}
    assert set(ours) == set(columns)
    for name, (method, score, threshold, drifted) in columns.items():
        mine = ours[name]
        # The preset shows the display name of a test it chose and the name of one it was given.
        assert (mine["method"] if policy.method == "auto" else mine["test"]) == method, name
        assert mine["score"] == pytest.approx(score, rel=1e-9, abs=1e-6), name
        assert mine["threshold"] == threshold, name
        assert mine["drifted"] is drifted, name
    assert result["share"] == pytest.approx(share, abs=1e-6)
    # The preset's DriftedColumnsCount test fails exactly when the policy calls the dataset drifted.
    assert result["dataset_drift"] is dataset_failed
    return columns


def mixed(n: int, shift: float, seed: int, *, kinds: tuple[str, ...] = ()) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nulls = rng.random(n) < 0.15
    columns = {
        "float": rng.normal(shift, 1.0, n),
        "float_nulls_inf": np.where(nulls, np.nan, rng.normal(shift / 2, 1.0, n)),
        "constant": np.full(n, 3.0),
        "few_floats": rng.choice([0.5, 1.5, 2.5], n, p=[0.5 - shift / 4, 0.3, 0.2 + shift / 4]),
        "int_wide": rng.integers(0, 10_000, n) + int(shift * 500),
        "int_narrow": rng.integers(0, 4 + int(shift > 0), n),
        "city": rng.choice(["oslo", "lima", "kyiv"], n, p=[0.5, 0.3, 0.2]),
        "city_nulls": np.where(nulls, None, rng.choice(["a", "b", "c", "d"], n)).astype(object),
        "flag": rng.random(n) < 0.3 + shift / 5,
        "binary_text": rng.choice(["yes", "no"], n, p=[0.6 - shift / 5, 0.4 + shift / 5]),
    }
    columns["float_nulls_inf"][:3] = [np.inf, -np.inf, np.inf]
    frame = pd.DataFrame(columns)
    return frame[list(kinds)] if kinds else frame


NUMERIC = ("float", "float_nulls_inf", "constant", "int_wide")
CATEGORICAL = ("int_narrow", "city", "city_nulls", "flag", "binary_text")


@pytest.mark.parametrize("rows", [40, 6000], ids=["tiny", "large"])
def test_auto_matches_the_preset_on_every_kind_of_column(rows):
    reference, current = mixed(rows, 0.0, 1), mixed(rows, 0.6, 2)
    policy = DriftPolicy()
    words = np.array(["late", "parcel", "refund", "great", "broken", "thanks", "where", "box"])
    for frame, seed in ((reference, 11), (current, 12)):
        picks = np.random.default_rng(seed).integers(0, len(words), (rows, 4))
        frame["comment"] = [" ".join(words[p]) + f" #{i}" for i, p in enumerate(picks)]
    result = detect(reference, current, policy)
    columns = assert_agrees(result, reference, current, policy)
    assert {c["column_type"] for c in result["columns"]} == {"num", "cat", "text"}
    methods = {columns[c][0] for c in columns}
    # Evidently's "auto" picks small-sample tests below 1,000 reference rows, distances above.
    if rows < 1000:
        assert {"K-S p_value", "chi-square p_value", "Z-test p_value"} < methods
    else:
        assert {"Wasserstein distance (normed)", "Jensen-Shannon distance"} < methods


@pytest.mark.parametrize(
    ("method", "kinds"),
    [
        ("ks", NUMERIC),
        ("wasserstein", NUMERIC),
        ("psi", NUMERIC + CATEGORICAL),
        ("jensenshannon", NUMERIC + CATEGORICAL),
        ("kl_div", NUMERIC + CATEGORICAL),
        ("chisquare", CATEGORICAL),
        ("z", CATEGORICAL),
    ],
)
def test_every_policy_method_matches_the_preset(method, kinds):
    reference, current = mixed(1500, 0.0, 3, kinds=kinds), mixed(1200, 0.3, 4, kinds=kinds)
    policy = DriftPolicy(method=method)
    assert_agrees(detect(reference, current, policy), reference, current, policy)


def test_a_policy_threshold_and_share_give_the_preset_verdicts():
    reference, current = mixed(2500, 0.0, 5), mixed(2500, 0.25, 6)
    for share in (0.2, 0.5, 0.9):
        policy = DriftPolicy(column_threshold=0.05, share=share)
        assert_agrees(detect(reference, current, policy), reference, current, policy)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_files_read_column_by_column_match_the_preset_on_what_pandas_reads(tmp_path, fmt):
    reference, current = mixed(300, 0.0, 7), mixed(1800, 0.5, 8)
    reference["day"] = pd.date_range("2024-01-01", periods=300, freq="D").strftime("%Y-%m-%d")
    current["day"] = pd.date_range("2024-01-01", periods=1800, freq="h").strftime("%Y-%m-%d")
    paths = tmp_path / f"ref.{fmt}", tmp_path / f"cur.{fmt}"
    for frame, path in zip((reference, current), paths, strict=True):
        frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    policy = DriftPolicy()
    with opened(*paths) as (ref, cur):
        result = detect(ref, cur, policy)
    assert_agrees(result, read(paths[0]), read(paths[1]), policy)
    assert "day" in {c["column"] for c in result["columns"]}  # a date in a CSV is a string


def test_a_column_the_preset_cannot_test_fails_as_the_preset_does_with_a_clear_error():
    reference, current = mixed(100, 0.0, 9), mixed(100, 0.0, 10)
    reference["empty"] = np.nan
    current["empty"] = 1.0
    with pytest.raises(InputError, match="'empty' has no values in the reference data"):
        detect(reference, current, DriftPolicy())
    with pytest.raises(ValueError, match="empty column 'empty'"):
        preset(reference, current, DriftPolicy())
    with pytest.raises(InputError, match="method 'ks' does not apply to the categorical"):
        detect(mixed(100, 0.0, 9), mixed(100, 0.0, 10), DriftPolicy(method="ks"))
