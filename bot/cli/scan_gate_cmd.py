"""`mlbot scan-gate REPORT.json`: gate a Trivy JSON report against the scan policy."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT.json", help="Trivy report (--format json)")
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="YAML policy: a policy pack (its supply_chain.trivy), a supply_chain section, "
        "or a trivy section",
    )
    parser.add_argument(
        "--ignorefile",
        metavar="FILE",
        action="append",
        default=[],
        help=".trivyignore or .trivyignore.yaml (repeatable); expired entries stop ignoring",
    )
    parser.add_argument(
        "--severity",
        metavar="LIST",
        help="comma-separated blocking severities (default CRITICAL,HIGH, or the policy's)",
    )
    parser.add_argument(
        "--ignore-unfixed",
        action="store_true",
        help="vulnerabilities without a fix do not block",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the evidence for the version record as JSON"
    )
    parser.add_argument("--markdown", metavar="FILE", help="also write the PR comment section")
    parser.set_defaults(func=run)


def load_trivy_policy(path: str | None) -> Any:
    import yaml
    from pydantic import ValidationError

    from bot.supply_chain.policy import TrivyPolicy

    if path is None:
        return TrivyPolicy()
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read policy {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"policy {path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError(f"policy {path} is not a YAML mapping")
    section = doc
    for key in ("supply_chain", "trivy"):
        if isinstance(section.get(key), dict):
            section = section[key]
    if section is doc and ("supply_chain" in doc or "trivy" in doc):
        raise InputError(f"policy {path}: the supply_chain/trivy section is not a mapping")
    if section is doc and "schema" in doc:
        section = {}  # a pack without a supply_chain section: the defaults
    try:
        return TrivyPolicy.model_validate(section)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"policy {path}: {where}: {first['msg']}") from exc


def run(args: argparse.Namespace) -> int:
    from bot.supply_chain.collect import scan_from_files
    from bot.supply_chain.policy import SEVERITIES
    from bot.supply_chain.render import scan_markdown, scan_text

    policy = load_trivy_policy(args.policy)
    updates: dict[str, Any] = {}
    if args.severity:
        sevs = [s.strip().upper() for s in args.severity.split(",") if s.strip()]
        bad = [s for s in sevs if s not in SEVERITIES]
        if bad or not sevs:
            raise InputError(
                f"--severity {args.severity!r}: use a comma-separated list of "
                f"{', '.join(SEVERITIES)}"
            )
        updates["blocking_severities"] = sevs
    if args.ignore_unfixed:
        updates["ignore_unfixed"] = True
    if updates:
        policy = policy.model_copy(update=updates)

    result = scan_from_files(args.report, policy, args.ignorefile)
    if args.markdown:
        try:
            Path(args.markdown).write_text(scan_markdown(result), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {args.markdown}: {exc.strerror or exc}") from exc
    if args.json:
        doc = result.evidence().model_dump(mode="json")
        doc["expired_ignores"] = [
            {
                "id": r.id,
                "expires": r.expires.isoformat() if r.expires else None,
                "source": r.source,
            }
            for r in result.expired_ignores
        ]
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        print(scan_text(result), end="")
    return 0 if result.passed else 1
