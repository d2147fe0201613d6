"""`mlbot policy check|explain|schema`: the policy in force, validated and in words."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.cli.repo import add_repo_argument, print_json

HELP = {
    "check": "validate .github/mlbot.yml and the policy it selects (exit 1 if invalid)",
    "explain": "say, in words, what each stage requires for a model",
    "schema": "print the policy JSON Schema (the one in policies/schema.json)",
}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    p = sub.add_parser("check", help=HELP["check"], description=HELP["check"])
    add_repo_argument(p)
    p.set_defaults(func=run_check)
    p = sub.add_parser("explain", help=HELP["explain"], description=HELP["explain"])
    p.add_argument("model", nargs="?")
    p.add_argument("--json", action="store_true", help="the effective policy as JSON")
    add_repo_argument(p)
    p.set_defaults(func=run_explain)
    p = sub.add_parser("schema", help=HELP["schema"], description=HELP["schema"])
    p.set_defaults(func=run_schema)


def schema_document() -> dict:
    from bot.policy.schema import Policy

    schema = Policy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mlbot.dev/schemas/policy-v1.json"
    return schema


def run_schema(args: argparse.Namespace) -> int:
    print(json.dumps(schema_document(), indent=2, sort_keys=True))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from bot.config.load import load_config, policy_with_notes
    from bot.errors import InputError

    root = Path(args.repo).resolve()
    problems = []
    try:
        config = load_config(root)
    except InputError as err:
        print(err)
        return 1
    notes: list[str] = []
    stages: dict[str, list[str]] = {}
    for model in [None, *config.models]:
        try:
            policy, found = policy_with_notes(config, model, root)
        except InputError as err:
            problems.append(f"{model or 'all models'}: {err}")
            continue
        stages[model or "all models"] = policy.stages
        notes += [n for n in found if n not in notes]
    for p in problems:
        print(p)
    for note in notes:
        print(f"note: {note}")
    if not problems:
        default = stages.get("all models", [])
        print(
            f"policy OK: pack '{config.policy}', {len(config.models)} model(s); "
            f"stages: {' -> '.join(default)}"
        )
        for model, own in stages.items():
            if own != default:
                print(f"  {model}: stages {' -> '.join(own)}")
    return 1 if problems else 0


def run_explain(args: argparse.Namespace) -> int:
    from bot.config.load import load_config, policy_for

    root = Path(args.repo).resolve()
    config = load_config(root)
    policy = policy_for(config, args.model, root)
    if args.json:
        print_json(policy.model_dump(mode="json", by_alias=True))
        return 0
    print(
        f"policy '{policy.name}' for {args.model or 'all models'}; stages: "
        f"{' -> '.join(policy.stages)}"
    )
    for stage in policy.stages:
        rule = policy.for_stage(stage)
        needs = [
            f"{rule.approvals} code-owner approval(s)"
            + ("" if rule.allow_self_approval else ", not the requester's own")
            + ("" if rule.accept_stale_approvals else ", on the current head")
        ]
        if rule.from_stages:
            needs.append(f"having been in {' or '.join(rule.from_stages)}")
        if rule.required_checks:
            needs.append(f"green checks: {', '.join(rule.required_checks)}")
        if rule.require_signature:
            needs.append("a verified cosign signature")
        if rule.require_scan:
            sev = ", ".join(policy.supply_chain.trivy.blocking_severities)
            needs.append(f"a Trivy scan with no {sev} finding")
        print(f"- {stage}: " + "; ".join(needs))
    for name, gate in policy.metrics.items():
        bounds = [
            f"min {gate.min}" if gate.min is not None else "",
            f"max {gate.max}" if gate.max is not None else "",
            f"regression at most {gate.max_regression} vs {policy.baseline_stage}"
            if gate.max_regression is not None
            else "",
        ]
        print(f"- metric {name} ({gate.direction} is better): " + ", ".join(b for b in bounds if b))
    for name, gate in policy.slices.items():
        print(f"- slices of {name}: gap between groups at most {gate.max_gap}")
    rb = policy.rollback
    print(
        f"- rollback: {rb.approvals} code-owner approval(s)"
        + (", the requester's own counts" if rb.allow_self_approval else "")
        + f"; requested by {'any writer' if rb.requesters == 'write' else 'a code owner'}"
    )
    return 0
