"""Splitting long Markdown: every piece renders and nothing is lost."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rendering.split import split_markdown


def _open_blocks(text: str) -> tuple[int, int]:
    fences = sum(1 for line in text.splitlines() if line.startswith("```"))
    return fences % 2, text.count("<details") - text.count("</details>")


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
