"""The PR comment tells the truth at a glance, and never exceeds GitHub's limit."""

from __future__ import annotations

from bot.diff.render import GITHUB_COMMENT_LIMIT, comment_markdown


def evaluation(**extra):
    doc = {
        "candidate": {
            "version": "v1.2.0",
            "metrics": {"accuracy": 0.93, "log_loss": 0.31},
            "params": {"C": 1.0},
            "lineage": {"commit": "abc123"},
        },
        "production": {
            "version": "v1.1.0",
            "metrics": {"accuracy": 0.91, "log_loss": 0.25},
            "params": {"C": 0.5},
            "lineage": {"commit": "def456"},
        },
        "verdict": {
            "passed": False,
            "checks": [
                {"name": "metric:accuracy", "status": "pass", "reason": "ok", "fix": None},
                {
                    "name": "metric:log_loss",
                    "status": "fail",
                    "reason": "0.31 regresses by 0.06 against v1.1.0 (0.25); at most 0.02.",
                    "fix": "Improve the model or the data.",
                },
            ],
        },
        "directions": {"log_loss": "lower"},
        "policy": "default",
    }
    doc.update(extra)
    return doc


def table_row(text, metric):
    return next(line for line in text.splitlines() if line.startswith(f"| {metric} |"))


def test_table_verdict_and_marks_follow_the_metric_direction():
    text = comment_markdown("churn", evaluation())
    assert text.startswith("### ❌ mlbot · `churn` v1.2.0 vs production v1.1.0")
    assert table_row(text, "accuracy") == "| accuracy | 0.91 | 0.93 | +0.02 🟢 | ✅ |"
    # Higher log loss is worse even though the delta is positive.
    assert table_row(text, "log_loss") == "| log_loss | 0.25 | 0.31 | +0.06 🔴 | ❌ |"
    assert "**Verdict: 1 gate(s) failed**" in text
    assert "- ❌ **metric:log_loss**: 0.31 regresses by 0.06" in text
    assert "_Fix: Improve the model or the data._" in text
    assert "| C | 0.5 | 1 |" in text and "| commit | def456 | abc123 |" in text


def test_without_production_it_says_so():
    text = comment_markdown(
        "churn", evaluation(production=None, verdict={"passed": True, "checks": []})
    )
    assert "(no production version yet: thresholds only)" in text
    assert table_row(text, "accuracy") == "| accuracy | — | 0.93 | — |  |"


def test_cell_content_cannot_break_the_table_or_inject_html():
    ev = evaluation()
    ev["candidate"]["metrics"] = {"a|b": 1.0, "<img src=x>": 2.0}
    text = comment_markdown("churn", ev)
    assert "| a\\|b |" in text
    assert "<img" not in text and "&lt;img src=x&gt;" in text


def test_huge_evaluations_are_cut_to_the_limit_with_a_note():
    many = {f"metric_{i:05d}": i / 7 for i in range(6000)}
    ev = evaluation()
    ev["candidate"]["metrics"] = many
    ev["candidate"]["params"] = {f"p{i}": i for i in range(3000)}
    text = comment_markdown("churn", ev)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "left out to fit GitHub's comment limit" in text
    assert "**Verdict: 1 gate(s) failed**" in text  # the verdict always survives
