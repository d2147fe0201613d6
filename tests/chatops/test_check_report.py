"""The check run's pure parts: conclusions that fail closed, GitHub's limits, annotations."""

from __future__ import annotations

import pytest

from bot.chatops.check_report import (
    DESCRIPTION_LIMIT,
    LABEL_LIMIT,
    Action,
    Judged,
    annotations_for,
    model_of,
    promote_action,
    report,
    requested_stage,
    verdict_line,
)
from bot.chatops.evaluation_view import compare_with_registry
from bot.diff.render import comment_markdown
from bot.policy.packs import build, load_pack_data
from bot.policy.verdict import Check

CONFIG = """\
schema: mlbot/v1
models:
  cancer:
    metrics: metrics.json
    policy:
      metrics:
        accuracy: {min: 0.9}
  churn:
    path: models/churn
"""


def policy(metrics: dict | None = None):
    data = load_pack_data("default")
    if metrics is not None:
        data["metrics"] = metrics
    return build(data, "test")


def judged(accuracy: float, *, approvals: Check | None = None, metrics=None, **kw) -> Judged:
    doc = {
        "model": "cancer",
        "candidate": {"version": "v1.2.0", "metrics": {"accuracy": accuracy}},
        "production": None,
    }
    shown, _ = compare_with_registry(doc, None, policy(metrics))
    table = comment_markdown("cancer", shown)
    return Judged("cancer", "a" * 40, shown, table, approvals=approvals, **kw)


APPROVED = Check("approvals", "pass", "1/1 (alice).")
MISSING = Check("approvals", "fail", "0 of 1 code-owner approval(s) for production.", "Ask alice.")
BLOCKED = Check("approvals", "fail", "changes requested by code owner(s) bob.", "Address it.")
NONE_NEEDED = Check("approvals", "pass", "no approval required.")
GATE = {"accuracy": {"min": 0.9}}


def test_passing_gates_and_approvals_are_success_and_the_title_is_the_tables_first_line():
    rep = report(judged(0.95, approvals=APPROVED, metrics=GATE))
    assert rep.conclusion == "success"
    passing = judged(0.95, metrics=GATE)
    assert rep.title == verdict_line("cancer", passing.shown)
    # The same line the table opens with (in bold there).
    assert passing.table.splitlines()[0] == f"**{rep.title}**"
    assert "cancer" in rep.title and "`" not in rep.title and "\n" not in rep.title
    assert "| accuracy |" in rep.summary  # the comment's own metric table


def test_a_failed_gate_is_failure_whatever_the_approvals():
    for approvals in (APPROVED, MISSING, None):
        assert report(judged(0.5, approvals=approvals, metrics=GATE)).conclusion == "failure"


def test_only_missing_approvals_is_action_required_and_says_who():
    rep = report(judged(0.95, approvals=MISSING, metrics=GATE, details_url="https://x/pr/1"))
    assert rep.conclusion == "action_required"
    assert "waiting for approval" in rep.title
    assert "Ask alice." in rep.summary
    assert rep.body()["details_url"] == "https://x/pr/1"  # GitHub requires it for this


def test_changes_requested_by_an_owner_is_failure_not_action_required():
    assert report(judged(0.95, approvals=BLOCKED, metrics=GATE)).conclusion == "failure"


def test_nothing_gated_is_neutral_but_missing_evidence_is_failure():
    assert report(judged(0.95, approvals=NONE_NEEDED, metrics={})).conclusion == "neutral"
    nothing = Judged("cancer", "a" * 40, None, "", problems=["evaluation.json is not JSON"])
    rep = report(nothing)
    assert rep.conclusion == "failure"
    assert "evaluation.json is not JSON" in rep.title


def test_a_forks_evidence_never_turns_the_check_green():
    rep = report(judged(0.95, approvals=APPROVED, metrics=GATE, untrusted="a fork's code"))
    assert rep.conclusion == "action_required"
    assert rep.actions == ()  # and no button to promote it either


def test_in_progress_has_no_conclusion():
    from bot.chatops.check_report import in_progress

    body = in_progress("cancer", "a" * 40, "mlbot").body()
    assert body["status"] == "in_progress" and "conclusion" not in body


def test_the_button_fits_githubs_limits_for_every_allowed_stage_name():
    for stage in ("staging", "production", "a" * 11, "a" * 12, "b" * 31):
        action = promote_action("m" * 64, "v10.20.30-rc.1", stage)
        if action is None:
            continue
        assert len(action.label) <= LABEL_LIMIT
        assert len(action.description) <= DESCRIPTION_LIMIT
        assert len(action.identifier) <= 20
        assert requested_stage(action.identifier) == stage
    assert promote_action("cancer", "v1.2.0", "production").label == "Promote production"
    assert promote_action("cancer", "v1.2.0", "staging").label == "Promote to staging"
    with pytest.raises(ValueError):
        Action("x" * 21, "ok", "ok")


def test_a_button_is_offered_only_when_the_gates_pass():
    good = judged(0.95, approvals=APPROVED, metrics=GATE, version="v1.2.0", next_stage="production")
    assert [a.identifier for a in report(good).actions] == ["promote:production"]
    waiting = judged(
        0.95, approvals=MISSING, metrics=GATE, version="v1.2.0", next_stage="production"
    )
    assert report(waiting).actions == ()
    bad = judged(0.5, approvals=APPROVED, metrics=GATE, version="v1.2.0", next_stage="production")
    assert report(bad).actions == ()


def test_identifiers_the_bot_never_offered_ask_for_nothing():
    assert requested_stage("promote:production") == "production"
    for forged in ("rollback:production", "promote:", "promote:../x", "promote:Prod", "x"):
        assert requested_stage(forged) is None


def test_annotations_point_at_the_gates_line_and_the_metrics_file():
    failed = [Check("metric:accuracy", "fail", "0.5 is below the minimum 0.9.", "Improve it.")]
    found = annotations_for(
        "cancer",
        failed,
        config_text=CONFIG,
        metrics_path="metrics.json",
        metrics_text='{\n  "loss": 1,\n  "accuracy": 0.5\n}\n',
    )
    assert [(a.path, a.line) for a in found] == [(".github/mlbot.yml", 7), ("metrics.json", 3)]
    assert found[0].to_json()["annotation_level"] == "failure"
    # Another model's key of the same name is not the one that failed.
    other = annotations_for(
        "churn", failed, config_text=CONFIG, metrics_path=None, metrics_text=None
    )
    assert [(a.path, a.line) for a in other] == [(".github/mlbot.yml", 8)]


def test_only_this_bots_names_map_to_models():
    assert model_of("mlbot / cancer") == "cancer"
    assert model_of("mlbot") is None and model_of("ci / cancer") is None


def test_the_title_is_the_headline_in_plain_text_not_unescaped_markdown():
    # The evaluation names its baseline; Markdown escaping in the table must not reach the title.
    base = judged(0.95, metrics=GATE)
    shown = {**base.shown, "baseline": {"label": "staging & <canary>"}}
    table = comment_markdown("cancer", shown)
    rep = report(Judged("cancer", "a" * 40, shown, table, approvals=APPROVED))
    assert "staging &amp;" in table  # the comment escapes it, as Markdown must
    assert (
        rep.title
        == "✅ cancer v1.2.0 passes 1/1 gate (nothing in staging & <canary> yet: thresholds only)"
    )
