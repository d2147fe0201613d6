"""The gates as a pure function: every failure named at once, missing evidence fails."""

from __future__ import annotations

import pytest

from bot.policy.evidence import Approvals, GateEvidence, SignatureStatus
from bot.policy.gates import evaluate_candidate, evaluate_promotion, evaluate_rollback
from bot.policy.packs import build, load_pack, load_pack_data, merge
from bot.registry.schema import SliceMetric
from bot.supply_chain.evidence import ScanEvidence


def policy(**overrides):
    return build(merge(load_pack_data("default"), overrides), "test")


def names(verdict, status="fail"):
    return [c.name for c in verdict.checks if c.status == status]


def test_production_needs_staging_first_and_an_approval():
    ev = GateEvidence(stage="production", version="v1.0.0", approvals=Approvals(()))
    verdict = evaluate_promotion(load_pack("default"), ev)
    assert not verdict.passed
    assert names(verdict) == ["stage-order", "approvals"]
    order = verdict.checks[0]
    assert order.reason == "v1.0.0 must pass through staging before production."
    assert order.fix == "Promote v1.0.0 to staging first."


def test_all_gates_pass_with_full_evidence():
    ev = GateEvidence(
        stage="production",
        version="v1.0.0",
        stage_history=frozenset({"staging"}),
        approvals=Approvals(("bob",)),
    )
    verdict = evaluate_promotion(load_pack("default"), ev)
    assert verdict.passed, verdict.summary()


def test_approvals_not_seen_by_the_cli_are_skipped_not_passed():
    ev = GateEvidence(stage="production", version="v1", stage_history=frozenset({"staging"}))
    verdict = evaluate_promotion(load_pack("default"), ev)
    assert names(verdict, "skip") == ["approvals"]


def test_changes_requested_by_an_owner_blocks_even_with_enough_approvals():
    ev = GateEvidence(
        stage="production",
        version="v1",
        stage_history=frozenset({"staging"}),
        approvals=Approvals(("bob", "carol"), blocked_by=("dave",)),
    )
    verdict = evaluate_promotion(load_pack("default"), ev)
    assert names(verdict) == ["approvals"]
    assert "dave" in verdict.failed[0].reason


METRICS = {
    "accuracy": {"direction": "higher", "min": 0.8, "max_regression": 0.01},
    "latency_ms": {"direction": "lower", "max": 50, "max_regression": 5},
}


@pytest.mark.parametrize(
    ("candidate", "baseline", "failed"),
    [
        ({"accuracy": 0.9, "latency_ms": 40}, {"accuracy": 0.9, "latency_ms": 40}, []),
        ({"accuracy": 0.79, "latency_ms": 40}, None, ["metric:accuracy"]),
        (
            {"accuracy": 0.88, "latency_ms": 40},
            {"accuracy": 0.9, "latency_ms": 40},
            ["metric:accuracy"],
        ),
        (
            {"accuracy": 0.95, "latency_ms": 46},
            {"accuracy": 0.9, "latency_ms": 40},
            ["metric:latency_ms"],
        ),
        ({"accuracy": 0.95, "latency_ms": 51}, None, ["metric:latency_ms"]),
        ({"latency_ms": 10}, None, ["metric:accuracy"]),  # missing evidence fails closed
    ],
)
def test_metric_thresholds_and_regression_by_direction(candidate, baseline, failed):
    ev = GateEvidence(
        stage="staging",
        version="v2",
        metrics=candidate,
        baseline_version="v1" if baseline else None,
        baseline_metrics=baseline,
    )
    verdict = evaluate_candidate(policy(metrics=METRICS), ev)
    assert names(verdict) == failed


def test_regression_reason_names_the_baseline_and_the_numbers():
    ev = GateEvidence(
        stage="staging",
        version="v2",
        metrics={"accuracy": 0.85},
        baseline_version="v1.4.0",
        baseline_metrics={"accuracy": 0.9},
    )
    (check,) = [
        c
        for c in evaluate_candidate(policy(metrics=METRICS), ev).checks
        if c.name == "metric:accuracy"
    ]
    assert check.reason == "0.85 regresses by 0.05 against v1.4.0 (0.9); at most 0.01."


def test_nested_metrics_are_gated_by_their_dotted_name():
    ev = GateEvidence(stage="staging", version="v2", metrics={"test": {"auc": 0.7}})
    verdict = evaluate_candidate(policy(metrics={"test.auc": {"min": 0.75}}), ev)
    assert names(verdict) == ["metric:test.auc"]


def test_slice_gap_gate():
    gates = policy(slices={"accuracy": {"max_gap": 0.05}})
    wide = SliceMetric(groups={"north": 0.95, "south": 0.82}, gap=0.13)
    verdict = evaluate_candidate(
        gates, GateEvidence(stage="s", version="v", slices={"accuracy": wide})
    )
    assert names(verdict) == ["slice-gap:accuracy"]
    assert "south: 0.82, north: 0.95" in verdict.failed[0].reason
    missing = evaluate_candidate(gates, GateEvidence(stage="s", version="v", slices={}))
    assert names(missing) == ["slice-gap:accuracy"]


def test_signature_and_scan_required_by_strict_fail_closed():
    strict = load_pack("strict")
    ev = GateEvidence(
        stage="staging", version="v1", approvals=Approvals(("bob",)), checks={"mlbot": "success"}
    )
    assert names(evaluate_promotion(strict, ev)) == ["signature", "scan"]
    bad_sig = SignatureStatus(False, "the signature does not match the artifact digest")
    dirty = ScanEvidence(report_sha256="0" * 64, blocking=["CVE-2024-1"], passed=False)
    ev2 = GateEvidence(
        stage="staging",
        version="v1",
        approvals=Approvals(("bob",)),
        checks={"mlbot": "success"},
        signature=bad_sig,
        scan=dirty,
    )
    verdict = evaluate_promotion(strict, ev2)
    assert names(verdict) == ["signature", "scan"]
    assert verdict.failed[0].reason == "the signature does not match the artifact digest"
    assert "CVE-2024-1" in verdict.failed[1].reason


def test_required_checks_missing_or_red():
    strict = load_pack("strict")
    good = dict(
        approvals=Approvals(("bob",)),
        signature=SignatureStatus(True, "ok"),
        scan=ScanEvidence(report_sha256="0" * 64, passed=True),
    )
    red = evaluate_promotion(
        strict, GateEvidence(stage="staging", version="v1", checks={"mlbot": "failure"}, **good)
    )
    assert names(red) == ["required-checks"] and "mlbot (failure)" in red.failed[0].reason
    absent = evaluate_promotion(
        strict, GateEvidence(stage="staging", version="v1", checks={}, **good)
    )
    assert "not reported: mlbot" in absent.failed[0].reason


def test_rollback_needs_only_its_own_approval_rule():
    default = load_pack("default")
    ok = evaluate_rollback(
        default, GateEvidence(stage="production", version="v1", approvals=Approvals(("alice",)))
    )
    assert ok.passed
    none = evaluate_rollback(
        default, GateEvidence(stage="production", version="v1", approvals=Approvals(()))
    )
    assert names(none) == ["approvals"]


def test_metrics_on_another_holdout_than_the_baselines_are_not_like_for_like():
    gated = policy(metrics={"accuracy": {"min": 0.9}})

    def verdict(candidate: str, baseline: str | None):
        holdout = {"path": "data/holdout.csv", "candidate": candidate, "baseline": baseline}
        ev = GateEvidence(
            stage="staging",
            version="v1.1.0",
            metrics={"accuracy": 0.99},
            baseline_version="v1.0.0",
            extra={"holdout": holdout},
        )
        return evaluate_promotion(gated, ev)

    other = verdict("b" * 64, "d" * 64)
    assert names(other) == ["holdout"]
    (check,) = [c for c in other.checks if c.name == "holdout"]
    assert "not like for like" in check.reason and check.fix
    assert "holdout" in names(verdict("d" * 64, "d" * 64), "pass")
    assert "holdout" in names(verdict("b" * 64, None), "skip")  # the baseline recorded none
