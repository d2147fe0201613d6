"""The metric comment's pure parts: markers, clean splitting, the chart, the registry comparison."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chatops.metric_comment import (
    chart_data,
    compare_with_registry,
    marker,
    parse_marker,
    split_markdown,
    sticky_parts,
)
from bot.policy.packs import build, load_pack_data


def _open_blocks(text: str) -> tuple[int, int]:
    fences = sum(1 for line in text.splitlines() if line.startswith("```"))
    return fences % 2, text.count("<details") - text.count("</details>")


def test_markers_name_model_and_part_and_nothing_else_matches() -> None:
    assert parse_marker(marker("cancer", 3) + "\nbody") == ("cancer", 3)
    assert parse_marker("quoted: " + marker("cancer")) is None  # only at the very start
    assert parse_marker("<!-- mlbot:metrics:cancer part=x -->") is None
    assert parse_marker(None) is None


def test_a_cut_inside_a_fence_and_details_closes_and_reopens_them() -> None:
    text = (
        "<details><summary>Log</summary>\n\n```text\n"
        + "".join(f"line {i}\n" for i in range(400))
        + "```\n\n</details>\nafter\n"
    )
    parts = split_markdown(text, 1000)
    assert len(parts) > 3
    for part in parts:
        assert len(part) <= 1000
        assert _open_blocks(part) == (0, 0)
    reopened = "<details><summary>Log (continued)</summary>\n\n```text\n"
    assert all(p.startswith(reopened) for p in parts[1:-1])
    body_lines = [x for p in parts for x in p.splitlines() if x.startswith("line ")]
    assert body_lines == [f"line {i}" for i in range(400)]


def test_a_cut_inside_a_table_repeats_its_header() -> None:
    text = "| a | b |\n|---|:-:|\n" + "".join(f"| {i} | x |\n" for i in range(300))
    parts = split_markdown(text, 500)
    assert len(parts) > 2
    assert all(p.startswith("| a | b |\n|---|:-:|\n") for p in parts)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="ab |-`~<>/", max_size=80),
            st.sampled_from(
                ["```", "```py", "<details><summary>s</summary>", "</details>", "|---|"]
            ),
        ),
        max_size=200,
    ),
    st.integers(min_value=200, max_value=2000),
)
def test_every_piece_fits_and_no_text_is_lost(lines: list[str], limit: int) -> None:
    text = "\n".join(lines) + "\n"
    parts = split_markdown(text, limit)
    assert all(len(p) <= limit for p in parts)
    joined = "".join(parts)
    for line in lines:
        assert line[:10] in joined


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
    assert data["metric"] == "acc___line__1"
    assert data["labels"] == ["v1__", "candidate"]  # the non-number is left out
    assert data["points"] == [0.9, 0.95] and data["y_min"] < 0.9 < 0.95 < data["y_max"]
    assert chart_data("acc", [], None) is None


def test_the_verdict_is_judged_again_under_the_policy() -> None:
    data = load_pack_data("default")
    data["metrics"] = {"accuracy": {"min": 0.9}}
    policy = build(data, "test")
    evaluation = {
        "model": "cancer",
        "candidate": {"metrics": {"accuracy": 0.5}},
        "production": {"version": "v1.0.0", "metrics": {"accuracy": 0.9}},
        # What a fork's run could claim: the comment must not believe it.
        "verdict": {"passed": True, "checks": []},
        "params": {"C": 1},
    }
    shown, notes = compare_with_registry(evaluation, None, policy)
    assert shown["verdict"]["passed"] is False
    failed = [c["name"] for c in shown["verdict"]["checks"] if c["status"] == "fail"]
    assert failed == ["metric:accuracy"]
    # Nothing is live in the registry: the run's production is not shown as production.
    assert shown["production"] is None and "nothing is live in production now" in notes[0]
    assert shown["candidate"]["params"] == {"C": 1}
