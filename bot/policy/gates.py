"""Promotion and rollback gates: a pure function (policy, evidence) -> verdict."""

from __future__ import annotations

from collections.abc import Mapping

from bot.diff.metrics import flatten
from bot.policy.evidence import GateEvidence
from bot.policy.schema import MetricGate, Policy, StagePolicy
from bot.policy.verdict import Check, Verdict
from bot.rendering.numbers import plural

GREEN = {"success", "neutral", "skipped"}


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def stage_order(policy: Policy, ev: GateEvidence) -> Check:
    sources = policy.for_stage(ev.stage).from_stages
    if ev.stage not in policy.stages:
        return Check(
            "stage-order",
            "fail",
            f"'{ev.stage}' is not a stage of this policy ({', '.join(policy.stages)}).",
            "Name one of the configured stages.",
        )
    if not sources:
        return Check("stage-order", "pass", f"any registered version may enter {ev.stage}.")
    if ev.stage_history & set(sources):
        return Check("stage-order", "pass", f"{ev.version} has been in {'/'.join(sources)}.")
    return Check(
        "stage-order",
        "fail",
        f"{ev.version} must pass through {' or '.join(sources)} before {ev.stage}.",
        f"Promote {ev.version} to {sources[0]} first.",
    )


def not_deprecated(ev: GateEvidence) -> Check:
    if ev.deprecated:
        return Check(
            "deprecated",
            "fail",
            f"{ev.version} is deprecated.",
            "Register a new version instead.",
        )
    return Check("deprecated", "pass", f"{ev.version} is not deprecated.")


def metric_checks(policy: Policy, ev: GateEvidence) -> list[Check]:
    if not policy.metrics:
        return []
    if ev.metrics is None:
        return [
            Check(
                "metrics",
                "fail",
                "the policy gates on metrics but no metrics were given.",
                "Run `mlbot evaluate` and register the version with its metrics.",
            )
        ]
    current = flatten(ev.metrics)
    baseline = flatten(ev.baseline_metrics) if ev.baseline_metrics is not None else None
    return [_metric(name, gate, current, baseline, ev) for name, gate in policy.metrics.items()]


def _metric(
    name: str,
    gate: MetricGate,
    current: Mapping[str, object],
    baseline: Mapping[str, object] | None,
    ev: GateEvidence,
) -> Check:
    check = f"metric:{name}"
    value = _number(current.get(name))
    if value is None:
        status = "fail" if gate.required else "skip"
        return Check(check, status, f"{name} is missing from the evidence.", "Log it in training.")
    problems = []
    if gate.min is not None and value < gate.min:
        problems.append(f"{_fmt(value)} is below the minimum {_fmt(gate.min)}")
    if gate.max is not None and value > gate.max:
        problems.append(f"{_fmt(value)} is above the maximum {_fmt(gate.max)}")
    note = ""
    if gate.max_regression is not None:
        old = _number(baseline.get(name)) if baseline is not None else None
        if baseline is None:
            note = " (no live baseline: thresholds only)"
        elif old is None:
            note = f" ({ev.baseline_version} has no {name}: thresholds only)"
        else:
            worse = old - value if gate.direction == "higher" else value - old
            if worse > gate.max_regression:
                problems.append(
                    f"{_fmt(value)} regresses by {_fmt(worse)} against "
                    f"{ev.baseline_version} ({_fmt(old)}); at most {_fmt(gate.max_regression)}"
                )
    if problems:
        return Check(check, "fail", "; ".join(problems) + ".", "Improve the model or the data.")
    return Check(check, "pass", f"{name} = {_fmt(value)}{note}.")


def holdout_check(policy: Policy, ev: GateEvidence) -> Check | None:
    """Metrics compare like with like only on the holdout the baseline was judged on."""
    holdout = ev.extra.get("holdout")
    if not policy.metrics or not isinstance(holdout, Mapping):
        return None
    path, candidate, baseline = (
        holdout.get("path"),
        holdout.get("candidate"),
        holdout.get("baseline"),
    )
    if baseline is None:
        return Check(
            "holdout",
            "skip",
            f"{ev.baseline_version or 'the baseline'} recorded no digest of {path}: "
            "thresholds hold on the evaluation's holdout as given.",
        )
    if candidate != baseline:
        return Check(
            "holdout",
            "fail",
            f"the evaluation used a different {path} ({str(candidate)[:12]}) than "
            f"{ev.baseline_version} was registered with ({str(baseline)[:12]}): the metric "
            "comparison is not like for like.",
            f"Evaluate on the holdout {ev.baseline_version} was judged on, or change the "
            "holdout on the default branch on its own first.",
        )
    return Check("holdout", "pass", f"same {path} as {ev.baseline_version}.")


def slice_checks(policy: Policy, ev: GateEvidence) -> list[Check]:
    checks = []
    for metric, gate in policy.slices.items():
        name = f"slice-gap:{metric}"
        measured = (ev.slices or {}).get(metric)
        if measured is None:
            checks.append(
                Check(
                    name,
                    "fail",
                    f"no slice measurements of {metric}.",
                    "Declare group_columns for the model and run `mlbot evaluate`.",
                )
            )
        elif measured.gap > gate.max_gap:
            worst = sorted(measured.groups.items(), key=lambda kv: kv[1])
            checks.append(
                Check(
                    name,
                    "fail",
                    f"{metric} differs by {_fmt(measured.gap)} between groups "
                    f"({worst[0][0]}: {_fmt(worst[0][1])}, {worst[-1][0]}: "
                    f"{_fmt(worst[-1][1])}); at most {_fmt(gate.max_gap)}.",
                    "Rebalance the training data or the decision threshold for those groups.",
                )
            )
        else:
            checks.append(Check(name, "pass", f"gap {_fmt(measured.gap)} between groups."))
    return checks


def signature_check(rule: StagePolicy, ev: GateEvidence) -> Check | None:
    if not rule.require_signature:
        return None
    sig = ev.signature
    if sig is None:
        return Check(
            "signature",
            "fail",
            f"{ev.stage} requires a signed artifact and {ev.version} has no signature.",
            "Sign the artifact with cosign (the `sign` action) and register it with the signature.",
        )
    if not sig.verified:
        return Check(
            "signature", "fail", sig.reason, "Sign with a key or identity the policy trusts."
        )
    return Check("signature", "pass", sig.reason)


def scan_check(rule: StagePolicy, ev: GateEvidence) -> Check | None:
    if not rule.require_scan:
        return None
    scan = ev.scan
    if scan is None:
        return Check(
            "scan",
            "fail",
            f"{ev.stage} requires a Trivy scan and {ev.version} has none.",
            "Run the `scan` action and register the version with its report.",
        )
    if not scan.passed:
        shown = ", ".join(scan.blocking[:5]) + (" ..." if len(scan.blocking) > 5 else "")
        return Check(
            "scan",
            "fail",
            f"{plural(len(scan.blocking), 'blocking finding')}: {shown}.",
            "Fix or upgrade the affected packages, or add a reasoned, expiring ignore.",
        )
    return Check("scan", "pass", "no blocking findings.")


def approvals_check(required: int, ev: GateEvidence, what: str) -> Check:
    if ev.approvals is None:
        if required == 0:
            return Check("approvals", "pass", "no approval required.")
        return Check("approvals", "skip", f"{plural(required, 'approval')} enforced by the bot.")
    got = ev.approvals
    if got.blocked_by:
        return Check(
            "approvals",
            "fail",
            f"changes requested by {'code owners' if len(got.blocked_by) > 1 else 'code owner'} "
            f"{', '.join(got.blocked_by)}.",
            "Address the review, then ask them to approve.",
        )
    if len(got.approvers) >= required:
        who = ", ".join(got.approvers) or "nobody needed"
        return Check("approvals", "pass", f"{len(got.approvers)}/{required} ({who}).")
    owners = ", ".join(got.owners) if got.owners else "the code owners"
    why = f" Not counted: {'; '.join(got.discarded)}." if got.discarded else ""
    return Check(
        "approvals",
        "fail",
        f"{len(got.approvers)} of {plural(required, 'code-owner approval')} for {what}.{why}",
        f"Ask {owners} to approve (a PR review, or `/approve` on an issue).",
    )


def required_checks(rule: StagePolicy, ev: GateEvidence) -> Check | None:
    if not rule.required_checks:
        return None
    if ev.checks is None:
        return Check("required-checks", "skip", "CI checks are enforced by the bot.")
    missing = [c for c in rule.required_checks if c not in ev.checks]
    red = [
        f"{c} ({ev.checks[c]})"
        for c in rule.required_checks
        if c in ev.checks and ev.checks[c] not in GREEN
    ]
    if missing or red:
        parts = []
        if missing:
            parts.append(f"not reported: {', '.join(missing)}")
        if red:
            parts.append(f"not green: {', '.join(red)}")
        return Check(
            "required-checks", "fail", "; ".join(parts) + ".", "Wait for CI or fix the failure."
        )
    return Check("required-checks", "pass", f"green: {', '.join(rule.required_checks)}.")


def evaluate_promotion(policy: Policy, ev: GateEvidence) -> Verdict:
    """Every gate for moving `ev.version` into `ev.stage`; all failures reported at once."""
    rule = policy.for_stage(ev.stage)
    checks: list[Check | None] = [
        stage_order(policy, ev),
        not_deprecated(ev),
        approvals_check(rule.approvals, ev, f"{ev.stage}"),
        required_checks(rule, ev),
        *metric_checks(policy, ev),
        holdout_check(policy, ev),
        *slice_checks(policy, ev),
        signature_check(rule, ev),
        scan_check(rule, ev),
    ]
    return Verdict(tuple(c for c in checks if c is not None))


def evaluate_rollback(policy: Policy, ev: GateEvidence) -> Verdict:
    """A rollback restores a version that was live before: only approvals gate it.

    Metric and scan gates are deliberately not re-run: in an incident the
    previous version is the known quantity, and blocking its return on a
    threshold changed since would keep the broken one live.
    """
    return Verdict((approvals_check(policy.rollback.approvals, ev, "a rollback"),))


def evaluate_candidate(policy: Policy, ev: GateEvidence) -> Verdict:
    """The gates `mlbot evaluate` can judge before registration: metrics and slices."""
    return Verdict(tuple([*metric_checks(policy, ev), *slice_checks(policy, ev)]))
