"""Every body the bot writes in a real run, rendered as GitHub renders it and read off the page.

The bodies come from `scenario.play` (the real bot against the simulator,
the real drift CLI); each is rendered by cmark-gfm with GitHub's CSS and
Mermaid in headless Chromium. A reader's checks: nothing shows raw Markdown
or HTML, every table has its columns and a header, every chart parses, and
the first line says the outcome. `MLBOT_SCREENSHOTS=docs/screenshots`
(`make screenshots`) saves the pictures the README shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rendering.github_page import GitHubRenderer, Rendered, screenshot_dir
from tests.rendering.scenario import Bodies, scenario

# The bodies the README and the docs show.
SCREENSHOTS = (
    "metric-comment",
    "metric-comment-failing",
    "metric-comment-promoted",
    "promote-done",
    "approve-non-owner",
    "rollback-done",
    "help",
    "status",
    "drift-issue",
    "drift-again",
    "retrain-pr",
)


@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bodies]:
    from tests.e2e.conftest import make_registry_template

    tmp = tmp_path_factory.mktemp("bodies")
    template = make_registry_template(tmp / "template" / "models.git")
    (tmp / "world").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        yield from scenario(tmp / "world", template, patch.setenv)


@pytest.fixture(scope="module")
def rendered(bodies: Bodies, github_renderer: GitHubRenderer) -> dict[str, Rendered]:
    out = {name: github_renderer.render(body) for name, body in bodies.bodies.items()}
    where = screenshot_dir()
    if where is not None:
        for name in SCREENSHOTS:
            if name in out:
                out[name].screenshot(Path(where) / f"{name}.png")
    return out


def test_every_body_renders_without_leaks_and_with_whole_tables(
    rendered: dict[str, Rendered],
) -> None:
    problems = {name: page.problems() for name, page in rendered.items()}
    assert {name: p for name, p in problems.items() if p} == {}
    assert set(rendered) >= set(SCREENSHOTS)


def test_the_metric_comment_opens_with_the_verdict_and_the_next_step(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["metric-comment"]
    assert page.first_line() == (
        "✅ cancer v1.2.0 passes 1/1 gate vs production v1.1.0 — comment /promote; "
        "needs 1 approval from @alice, @bob or @dave"
    )
    assert page.table_headers()[0] == [
        "Metric",
        "Production v1.1.0",
        "Candidate v1.2.0",
        "Change",
        "Threshold",
        "Gate",
    ]
    text = page.text
    # Fixed decimals, percentage points for a rate, the gate in words.
    assert re.search(r"accuracy\s+0\.9708\s+0\.9766\s+\+0\.58 pp 🟢\s+≥ 0\.9000", text), text
    # A change under the noise floor on a metric no gate looks at: no colour.
    assert re.search(r"log_loss\s+0\.0806\s+0\.0812\s+\+0\.0006\s+not gated", text), text
    assert "(s)" not in text


def test_a_failing_comment_names_its_gates_and_the_worst_slice(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["metric-comment-failing"]
    first = page.first_line()
    assert first.startswith("❌ cancer v1.3.0 fails 2 of 2 gates vs production v1.2.0: ")
    assert first.endswith("accuracy, slice gap of accuracy")
    assert "\u22123.51 pp 🔴" in page.text  # a real minus sign
    [slices] = [s for s in page.summaries() if s.startswith("Slices")]
    assert slices == "Slices: worst change accuracy of mean_radius>14 0.9655 → 0.8421"


def test_a_promoted_version_says_so_instead_of_comparing_with_itself(
    bodies: Bodies, rendered: dict[str, Rendered]
) -> None:
    page = rendered["metric-comment-promoted"]
    commit = bodies.facts["promote_commit"]
    assert page.first_line() == f"✅ cancer v1.2.0 was promoted to production in {commit[:7]}"
    assert page.table_headers()[0][1:3] == ["Production v1.1.0", "Candidate v1.2.0"]


def test_the_chart_is_collapsed_small_and_plots_the_table(
    bodies: Bodies, rendered: dict[str, Rendered]
) -> None:
    body = bodies.bodies["metric-comment"]
    page = rendered["metric-comment"]
    assert not [s for s in page.open_details() if s.startswith("Chart")]
    labels = re.search(r"x-axis \[(.*)\]", body)[1]
    bars = re.search(r"bar \[(.*)\]", body)[1]
    names = [label.strip('" ') for label in labels.split(",")]
    values = [float(v) for v in bars.split(",")]
    assert len(set(names)) == len(names), names
    # The table's production (as measured by this run) and candidate values, not registration's.
    assert dict(zip(names, values, strict=True))["v1.1.0"] == 0.9708
    assert values[-1] == 0.9766
    assert re.search(r"y-axis \"accuracy\" 0(\.0)? --> 1(\.0)?", body), body
    page.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    assert 0 < page.element_height(".mermaid-drawn svg") <= 300


def test_replies_put_what_happened_and_why_first(rendered: dict[str, Rendered]) -> None:
    done = rendered["rollback-done"]
    assert done.first_line().startswith("✅ Rolled back cancer production to v1.1.0")
    assert "Why: false negatives doubled" in done.text.splitlines()[:3]
    assert rendered["promote-done"].first_line().startswith("✅")


def test_a_non_owner_is_told_why_their_approval_does_not_count(
    rendered: dict[str, Rendered],
) -> None:
    first = rendered["approve-non-owner"].first_line()
    assert first == (
        "ℹ️ /approve by @erin does not count: erin is not a code owner of registry/<model>/ "
        "in CODEOWNERS (code owners: alice, bob, dave)."
    )
    assert rendered["approve-owner"].first_line().endswith("re-checked what is waiting here.")


def test_status_shows_relative_times_with_the_exact_one_on_hover_and_links_the_comment(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["status"]
    assert page.table_headers()[0] == ["Stage", "Version", "Since", "By", "Before"]
    times = page.page.evaluate(
        "() => [...document.querySelectorAll('td span[title]')].map(s => [s.innerText, s.title])"
    )
    assert len(times) == 2
    for shown, exact in times:
        assert re.fullmatch(r"\d+ \w+ ago|just now", shown), shown
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", exact), exact
    links = page.page.evaluate(
        "() => [...document.querySelectorAll('article a')].map(a => [a.innerText, a.href])"
    )
    assert [text for text, _ in links] == ["Metric comment of cancer"]
    assert "#issuecomment-" in links[0][1]


def test_help_is_one_table_and_help_command_gives_the_details(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["help"]
    assert page.table_headers() == [["Command", "What it does", "Who"]]
    from bot.commands.table import COMMANDS

    assert len(page.tables()[0]["rows"]) == len(COMMANDS)  # one row per command
    assert page.height() < 120 * len(COMMANDS)
    one = rendered["help-promote"]
    assert one.first_line().startswith("ℹ️ /promote [model] [version] [to stage] — Promote")
    assert one.table_headers() == [["Example", "What it does"]]


def test_the_drift_issue_puts_drifted_columns_first_with_test_statistic_and_effect(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["drift-issue"]
    assert page.first_line().startswith("⚠️ cancer: data drift in 3 columns of 4 (75.0%)")
    header = ["Test", "Statistic", "Threshold", "Effect"]
    assert page.table_headers()[:2] == [["Drifted column", *header], ["Column", *header]]
    assert page.summaries() == ["1 column without drift", "Data and method"]
    assert "standard deviations" in page.text and "/tmp/" not in page.markdown
    links = page.page.evaluate("() => [...document.querySelectorAll('article a')].map(a => a.href)")
    assert links == ["https://github.com/acme/models/actions/runs/4242"]


def test_a_re_detection_says_what_changed_and_points_at_the_retraining_pr(
    bodies: Bodies, rendered: dict[str, Rendered]
) -> None:
    page = rendered["drift-again"]
    assert page.first_line().startswith("Drift found again")
    assert "still drifting: mean_area, mean_radius, mean_texture" in page.text
    assert re.search(r"The retraining pull request #\d+ is open", page.text)
    assert "/retrain" not in page.text
    assert "| Drifted column |" not in page.markdown  # not the whole report again


def retrain_sections(page: Rendered) -> dict[str, str]:
    """The body's paragraphs by their bold lead word (Why, What happens, Next)."""
    return page.page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('article p > strong:first-child')]
          .map(b => [b.innerText.trim(), b.parentElement.innerText.trim()]))"""
    )


def test_the_retraining_pr_says_why_what_happens_and_how_to_promote(
    rendered: dict[str, Rendered],
) -> None:
    page = rendered["retrain-pr"]
    assert page.first_line() == "🔁 Retrain cancer"
    parts = retrain_sections(page)
    assert list(parts) == ["Why", "What happens", "Next"], parts
    assert re.fullmatch(
        r"Why: data drift\. Asked by @\S+ on issue #\d+, "
        r"while production runs v\d+\.\d+\.\d+\.",
        parts["Why"],
    ), parts["Why"]
    assert "evaluates the candidate against production" in parts["What happens"]
    assert parts["Next"].startswith("Next: once that comparison is green, comment /promote cancer")
    assert re.search(r"^Closes #\d+$", page.text, re.M)
    # The reason is shown as code: nothing in it links or mentions.
    codes = page.page.evaluate(
        "() => [...document.querySelectorAll('article p code')].map(c => c.innerText)"
    )
    assert "data drift" in codes, codes


def test_the_retrain_workflow_opens_the_same_pr_and_its_reason_cannot_mention_or_link(
    tmp_path: Path, github_renderer: GitHubRenderer
) -> None:
    from bot.ml.example import materialize
    from tests.actions.retrain_script import run_retrain_pr

    reason = "seen by @octocat in #1, [details](https://evil.example) <b>now</b>"
    run = run_retrain_pr(materialize(tmp_path / "repo"), tmp_path, reason=reason)
    assert run.returncode == 0, run.log
    page = github_renderer.render(run.body)
    assert page.problems(literal_code=True) == []
    assert page.first_line() == "🔁 Retrain cancer"
    parts = retrain_sections(page)
    assert list(parts) == ["Why", "What happens", "Next"], parts
    assert "Asked by @alice from workflow run 4242" in parts["Why"]
    links = page.page.evaluate(
        "() => [...document.querySelectorAll('article a')].map(a => [a.innerText, a.href])"
    )
    assert links == [["workflow run 4242", "https://github.com/acme/models/actions/runs/4242"]]
    [shown] = page.page.evaluate(
        "() => [...document.querySelectorAll('article p code')].map(c => c.innerText)"
        ".filter(t => t.includes('octocat'))"
    )
    assert shown == reason.replace("@", "@\u200b").replace("#", "#\u200b")
    assert "checks the candidate against the policy's thresholds" in parts["What happens"]
