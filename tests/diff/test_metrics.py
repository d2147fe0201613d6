"""The pure metric diff: DVC's reading rules, and the baseline's label."""

from __future__ import annotations

import pytest

from bot.diff.metric_files import MetricsFileError, declared, parse
from bot.diff.metrics import Baseline, diff, diff_files


def test_a_file_holding_one_bare_value_is_the_metric_named_empty():
    assert diff(0.5, 0.75) == {"": {"old": 0.5, "new": 0.75, "diff": 0.25}}
    # Against a mapping the keys cannot be matched, as DVC says.
    assert diff(0.5, {"a": 1}) == {"a": {"old": "unable to parse", "new": 1}}


def test_a_missing_side_is_null_and_an_unchanged_file_is_left_out():
    assert diff_files({}, {"m.json": {"a": 1}}) == {"m.json": {"a": {"old": None, "new": 1}}}
    assert diff_files({"m.json": {"a": 3}}, {"m.json": {"a": 3.0}}) == {}
    assert diff_files({"m.json": {"a": 3}}, {"m.json": {"a": 3.0}}, all=True) == {
        "m.json": {"a": {"old": 3, "new": 3.0, "diff": 0.0}}
    }


def test_dvc_yaml_paths_follow_folders_and_wdir_and_report_what_is_not_followed():
    found = declared(
        {
            "dvc.yaml": b"stages:\n  t:\n    cmd: x\n    wdir: train\n    metrics:\n"
            b"      - s.json:\n          cache: false\n  g:\n    foreach: [a]\n"
            b"    do:\n      cmd: x\n      metrics: ['m-${item}.json']\n"
            b"metrics: [top.toml, ../up.json]\n",
            "sub/dvc.yaml": b"metrics: ['r/${x}.json', r/m.yaml]\n",
        }
    )
    assert found.paths == ["train/s.json", "top.toml", "sub/r/m.yaml"]
    assert len(found.problems) == 3  # foreach, ${x}, and ../ (outside the repository)


def test_unparsable_files_name_their_format():
    with pytest.raises(MetricsFileError, match=r"m\.toml is not valid TOML"):
        parse(b"a = [", "m.toml")
    with pytest.raises(MetricsFileError, match=r"m\.yaml is not valid YAML"):
        parse(b"a: [", "m.yaml")
    assert parse(b"on: yes", "m.yml") == {"on": "yes"}  # YAML 1.2, as DVC


def test_a_baseline_is_labelled_by_what_it_is():
    assert Baseline("stage", "production", version="v1.2.0").label == "production (v1.2.0)"
    assert Baseline("stage", "staging").label == "staging (empty)"
    assert Baseline("version", "v1.0.0", version="v1.0.0").label == "v1.0.0"
    rev = Baseline("revision", "HEAD~1", commit="0123456789abcdef")
    assert rev.to_json() == {
        "kind": "revision",
        "name": "HEAD~1",
        "version": None,
        "commit": "0123456789abcdef",
        "label": "HEAD~1 (0123456)",
    }


def test_dvc_yaml_cannot_point_outside_the_repository():
    found = declared({"dvc.yaml": b"metrics: [../secret.json, /etc/passwd, ok.json]\n"})
    assert found.paths == ["ok.json"]
    assert [p.split()[0] for p in found.problems] == ["../secret.json", "/etc/passwd"]
