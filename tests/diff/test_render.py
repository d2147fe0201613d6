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
    assert text.startswith(
        "**❌ churn v1.2.0 fails 1 of 2 gates vs production v1.1.0: log_loss**\n"
    )
    assert table_row(text, "accuracy") == "| accuracy | 0.9100 | 0.9300 | +2.00 pp 🟢 | ✅ |"
    # Higher log loss is worse even though the delta is positive.
    assert table_row(text, "log_loss") == "| log_loss | 0.2500 | 0.3100 | +0.0600 🔴 | ❌ |"
    assert "1 of 2 gates failed under policy `default`" in text
    assert "- ❌ **log_loss**: 0.31 regresses by 0.06" in text
    assert "_Fix: Improve the model or the data._" in text
    assert "| C | 0.5 | 1 |" in text and "| commit | def456 | abc123 |" in text


def test_without_production_it_says_so():
    text = comment_markdown(
        "churn", evaluation(production=None, verdict={"passed": True, "checks": []})
    )
    assert text.startswith("**➖ churn v1.2.0: no gate applies (nothing in production yet")
    assert table_row(text, "accuracy") == "| accuracy | — | 0.9300 | — |  |"


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
    assert text.startswith("**❌ churn v1.2.0 fails 1 of 2 gates")  # the verdict survives


def test_numbers_follow_the_policy_and_colour_only_what_matters():
    from bot.policy.packs import build, load_pack_data

    data = load_pack_data("default")
    data["metrics"] = {"accuracy": {"min": 0.9, "max_regression": 0.02}}
    data["report"] = {"decimals": 3, "metric_decimals": {"latency_ms": 1}, "noise_floor": 0.01}
    policy = build(data, "test")
    ev = evaluation()
    ev["candidate"]["metrics"] = {"accuracy": 0.9640, "log_loss": 0.2541, "latency_ms": 12.25}
    ev["production"]["metrics"] = {"accuracy": 0.9554, "log_loss": 0.25, "latency_ms": 14.0}
    ev["verdict"] = {"passed": True, "checks": [ev["verdict"]["checks"][0]]}
    text = comment_markdown("churn", ev, policy=policy)
    header = next(line for line in text.splitlines() if line.startswith("| Metric |"))
    assert header == (
        "| Metric | Production v1.1.0 | Candidate v1.2.0 | Change | Threshold | Gate |"
    )
    # Three decimals everywhere; a rate's change in percentage points; the gate in words.
    assert table_row(text, "accuracy").startswith(
        "| accuracy | 0.955 | 0.964 | +0.9 pp 🟢 | ≥ 0.900, at most 2.0 pp worse |"
    )
    # An ungated change under the noise floor has no colour; one past it has.
    assert table_row(text, "log_loss").startswith("| log_loss | 0.250 | 0.254 | +0.004 |")
    assert table_row(text, "latency_ms").startswith(
        "| latency_ms | 14.0 | 12.2 | \u22121.8 🟢 | not gated |"
    )
