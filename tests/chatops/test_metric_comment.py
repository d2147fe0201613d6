"""The metric comment's pure parts: markers, parts, the chart."""

from __future__ import annotations

from bot.chatops.metric_chart import chart_data
from bot.chatops.metric_comment import marker, parse_marker, sticky_parts


def test_markers_name_model_and_part_and_nothing_else_matches() -> None:
    assert parse_marker(marker("cancer", 3) + "\nbody") == ("cancer", 3)
    assert parse_marker("quoted: " + marker("cancer")) is None  # only at the very start
    assert parse_marker("<!-- mlbot:metrics:cancer part=x -->") is None
    assert parse_marker(None) is None


def test_sticky_parts_number_every_part_and_fit_github() -> None:
    body = "x\n" * 70_000
    parts = sticky_parts("cancer", body)
    assert len(parts) == 3
    assert [parse_marker(p) for p in parts] == [("cancer", 1), ("cancer", 2), ("cancer", 3)]
    assert all(len(p) <= 65_536 for p in parts)
    assert "part 2 of 3" in parts[1]


def test_the_chart_keeps_pr_text_out_of_mermaid_syntax() -> None:
    data = chart_data('acc"]\nline [1', [('v1"]', 0.9), ("v2", "n/a")], 0.95)
    assert data is not None
    assert data["metric"] == "acc___line _1"
    assert data["labels"] == ["v1__", "candidate"]  # the non-number is left out
    assert data["points"] == [0.9, 0.95]
    assert chart_data("acc", [], None) is None


def test_the_chart_plots_the_table_once_per_version_on_an_honest_axis() -> None:
    history = [("v1.0.0", 0.93), ("v1.1.0", 0.95), ("v1.2.0", 0.955)]
    # v1.2.0 is the candidate and already live; the table shows v1.1.0 as this run measured it.
    data = chart_data(
        "accuracy", history, 0.97664, candidate_version="v1.2.0", shown={"v1.1.0": 0.9708}
    )
    assert data is not None
    assert data["labels"] == ["v1.0.0", "v1.1.0", "v1.2.0 candidate"]
    assert data["points"] == [0.93, 0.9708, 0.9766]  # the table's 4 decimals
    assert (data["y_min"], data["y_max"]) == (0, 1)  # a rate, from zero to one
    loss = chart_data("loss", [("v1", 3.0)], -1.0)
    assert loss is not None and loss["y_min"] == -1.0 and loss["y_max"] > 3.0
