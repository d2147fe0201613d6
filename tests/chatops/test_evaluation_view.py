"""A run's evaluation judged against the registry, as the comment and the check run show it."""

from __future__ import annotations

from bot.chatops.evaluation_view import compare_with_registry
from bot.policy.packs import build, load_pack_data


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
