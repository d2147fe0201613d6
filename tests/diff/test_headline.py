"""The first line: outcome, what was compared, and what to do next, for comments and check runs."""

from __future__ import annotations

from bot.diff.headline import TITLE_LIMIT, NextStep, Promoted, verdict_line


def doc(*statuses: str, version: str = "v1.2.0") -> dict:
    names = ["metric:accuracy", "slice-gap:accuracy", "metric:f1"]
    checks = [
        {"name": n, "status": s, "reason": "r", "fix": None}
        for n, s in zip(names, statuses, strict=False)
    ]
    return {
        "candidate": {"version": version},
        "production": {"version": "v1.1.0"},
        "verdict": {"passed": "fail" not in statuses, "checks": checks},
    }


def test_a_pass_counts_every_gate_and_says_the_next_command_and_who_approves() -> None:
    step = NextStep(stage="production", approvals=1, approvers=["alice", "bob", "dave"])
    assert verdict_line("cancer", doc("pass", "pass", "pass"), next_step=step) == (
        "✅ cancer v1.2.0 passes 3/3 gates vs production v1.1.0 — comment /promote; "
        "needs 1 approval from @alice, @bob or @dave"
    )
    assert (
        verdict_line("cancer", doc("pass"))
        == "✅ cancer v1.2.0 passes 1/1 gate vs production v1.1.0"
    )


def test_a_failure_names_the_failing_gates_in_words() -> None:
    line = verdict_line("cancer", doc("fail", "fail", "pass"), next_step=NextStep())
    assert line == (
        "❌ cancer v1.2.0 fails 2 of 3 gates vs production v1.1.0: accuracy, slice gap of accuracy"
    )


def test_skipped_gates_are_not_counted_and_no_gate_says_so() -> None:
    assert verdict_line("cancer", doc("skip")).startswith("➖ cancer v1.2.0: no gate applies")


def test_a_promoted_version_is_not_compared_with_itself() -> None:
    line = verdict_line("cancer", doc("pass"), promoted=Promoted("production", "a" * 40))
    assert line == "✅ cancer v1.2.0 was promoted to production in aaaaaaa"


def test_as_a_check_run_title_it_is_plain_text_within_githubs_limit() -> None:
    evil = doc("fail", version="v1.2.0|<b>")
    evil["verdict"]["checks"] = [
        {"name": f"metric:m{i}", "status": "fail", "reason": "", "fix": None} for i in range(80)
    ]
    title = verdict_line("cancer", evil, markdown=False)
    assert len(title) <= TITLE_LIMIT and title.endswith("…")
    assert "v1.2.0|<b>" in title  # a title is not Markdown: nothing escaped
    assert "&lt;b&gt;" in verdict_line("cancer", evil)  # a comment is: escaped
