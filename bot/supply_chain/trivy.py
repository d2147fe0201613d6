"""Trivy JSON reports: parse them, apply the scan policy, decide pass or block.

Pure core: bytes and text in, plain models out; no file or network I/O.
Reports follow Trivy's JSON output (SchemaVersion 2), in the current layout
and the older one (misconfigurations with `ID: DS002` plus `AVDID`, no
`Trivy`/`ReportID` keys). Keys that Trivy omits when empty (`Results`,
`Vulnerabilities`, ...) are read as empty, never as an error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from bot.errors import InputError
from bot.supply_chain.evidence import ScanEvidence
from bot.supply_chain.policy import SEVERITIES, TrivyPolicy

FindingClass = Literal["vulnerability", "misconfiguration", "secret"]
CLASSES: tuple[FindingClass, ...] = ("vulnerability", "misconfiguration", "secret")

# Statuses under which Trivy still reports a detection but no fix exists.
_NO_FIX_STATUSES = frozenset({"affected", "will_not_fix", "fix_deferred", "end_of_life"})
_SUPPORTED_SCHEMA_VERSIONS = frozenset({2})


@dataclass(frozen=True)
class Finding:
    """One thing Trivy reported: a vulnerable package, a failed check, a secret."""

    cls: FindingClass
    id: str
    severity: str
    target: str
    title: str = ""
    url: str | None = None
    # Vulnerabilities only.
    package: str | None = None
    installed: str | None = None
    fixed: str | None = None
    status: str | None = None
    purl: str | None = None
    pkg_path: str | None = None
    # Secrets only: where in the file.
    line: int | None = None
    # Other names Trivy accepts for this finding in ignore files (older AVD ids).
    aliases: tuple[str, ...] = ()

    @property
    def has_fix(self) -> bool:
        if self.cls != "vulnerability":
            return True
        if not self.fixed:
            return False
        return (self.status or "fixed") not in _NO_FIX_STATUSES

    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True)
class TrivyReport:
    sha256: str
    schema_version: int
    artifact_name: str
    artifact_type: str
    findings: tuple[Finding, ...]
    # Findings Trivy itself suppressed (VEX, --show-suppressed): shown, never counted.
    suppressed: int = 0


@dataclass(frozen=True)
class IgnoreRule:
    """An ignore entry from `.trivyignore`, `.trivyignore.yaml` or the policy."""

    id: str
    source: str
    reason: str = ""
    expires: dt.date | None = None
    paths: tuple[str, ...] = ()
    purls: tuple[str, ...] = ()
    # None: every class (plain .trivyignore and policy ignores).
    cls: FindingClass | None = None

    def expired(self, today: dt.date) -> bool:
        # Trivy drops an entry once midnight UTC of its date has passed.
        return self.expires is not None and self.expires <= today

    def matches(self, finding: Finding) -> bool:
        if self.cls is not None and self.cls != finding.cls:
            return False
        if self.id not in finding.names():
            return False
        if self.paths:
            candidates = [p for p in (finding.target, finding.pkg_path) if p]
            if not any(_glob_match(g, p) for g in self.paths for p in candidates):
                return False
        # Rules without purls match any package; with purls, only those packages.
        return not self.purls or any(_purl_match(p, finding.purl or "") for p in self.purls)


@dataclass
class ScanResult:
    report: TrivyReport
    policy: TrivyPolicy
    # Findings still active after ignores (what the counts are over).
    findings: list[Finding]
    blocking: list[Finding]
    ignored: list[tuple[Finding, IgnoreRule]] = field(default_factory=list)
    expired_ignores: list[IgnoreRule] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.blocking

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out

    @property
    def classes(self) -> dict[str, int]:
        out = dict.fromkeys(CLASSES, 0)
        for f in self.findings:
            out[f.cls] += 1
        return out

    def counts_by_class(self) -> dict[str, dict[str, int]]:
        out = {c: dict.fromkeys(SEVERITIES, 0) for c in CLASSES}
        for f in self.findings:
            out[f.cls][f.severity] = out[f.cls].get(f.severity, 0) + 1
        return out

    @property
    def blocking_ids(self) -> list[str]:
        return sorted({f.id for f in self.blocking})

    def evidence(self) -> ScanEvidence:
        return ScanEvidence(
            report_sha256=self.report.sha256,
            counts=self.counts,
            classes=self.classes,
            blocking=self.blocking_ids,
            passed=self.passed,
        )


# --- parsing -------------------------------------------------------------------------


def parse_report(data: bytes) -> TrivyReport:
    """Read a Trivy JSON report; anything that is not one is an InputError."""
    if not data.strip():
        raise InputError("the Trivy report is empty; a scan that produced nothing is not a pass")
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the Trivy report is not valid JSON (truncated?): {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError("the Trivy report is not a JSON object; expected `trivy --format json`")
    if "SchemaVersion" not in doc:
        hint = ""
        if "sarif" in str(doc.get("$schema", "")).lower() or "runs" in doc:
            hint = " (this looks like SARIF: run Trivy with `--format json`)"
        raise InputError(f"not a Trivy JSON report: no SchemaVersion{hint}")
    version = doc["SchemaVersion"]
    if isinstance(version, bool) or version not in _SUPPORTED_SCHEMA_VERSIONS:
        raise InputError(
            f"unsupported Trivy report SchemaVersion {version!r}; mlbot reads SchemaVersion 2"
        )
    if "ArtifactName" not in doc and "Results" not in doc:
        raise InputError("not a Trivy JSON report: neither ArtifactName nor Results is present")
    results = doc.get("Results")
    results = [] if results is None else results
    if not isinstance(results, list):
        raise InputError("malformed Trivy report: Results is not a list")

    findings: list[Finding] = []
    suppressed = 0
    for i, result in enumerate(results):
        if not isinstance(result, dict):
            raise InputError(f"malformed Trivy report: Results[{i}] is not an object")
        target = _str(result.get("Target"), f"Results[{i}].Target")
        findings.extend(_vulnerabilities(result, target, i))
        findings.extend(_misconfigurations(result, target, i))
        findings.extend(_secrets(result, target, i))
        suppressed += len(_list(result.get("ExperimentalModifiedFindings"), i, "Modified"))
    return TrivyReport(
        sha256=hashlib.sha256(data).hexdigest(),
        schema_version=version,
        artifact_name=str(doc.get("ArtifactName") or ""),
        artifact_type=str(doc.get("ArtifactType") or ""),
        findings=tuple(findings),
        suppressed=suppressed,
    )


def _list(value: Any, i: int, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"malformed Trivy report: Results[{i}].{what} is not a list")
    return value


def _str(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"malformed Trivy report: {where} is not a string")
    return value


def _severity(value: Any, where: str) -> str:
    sev = str(value or "UNKNOWN").upper()
    if sev not in SEVERITIES:
        raise InputError(f"malformed Trivy report: {where} has unknown severity {value!r}")
    return sev


def _item(entry: Any, i: int, what: str, j: int) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise InputError(f"malformed Trivy report: Results[{i}].{what}[{j}] is not an object")
    return entry


def _vulnerabilities(result: dict[str, Any], target: str, i: int) -> Iterable[Finding]:
    for j, raw in enumerate(_list(result.get("Vulnerabilities"), i, "Vulnerabilities")):
        v = _item(raw, i, "Vulnerabilities", j)
        where = f"Results[{i}].Vulnerabilities[{j}]"
        vid = _str(v.get("VulnerabilityID"), f"{where}.VulnerabilityID")
        if not vid:
            raise InputError(f"malformed Trivy report: {where} has no VulnerabilityID")
        ident = v.get("PkgIdentifier") if isinstance(v.get("PkgIdentifier"), dict) else {}
        yield Finding(
            cls="vulnerability",
            id=vid,
            severity=_severity(v.get("Severity"), where),
            target=target,
            title=_str(v.get("Title"), f"{where}.Title"),
            url=v.get("PrimaryURL") or None,
            package=v.get("PkgName") or None,
            installed=v.get("InstalledVersion") or None,
            fixed=v.get("FixedVersion") or None,
            status=v.get("Status") or None,
            purl=ident.get("PURL") or None,
            pkg_path=v.get("PkgPath") or None,
        )


def _misconfigurations(result: dict[str, Any], target: str, i: int) -> Iterable[Finding]:
    for j, raw in enumerate(_list(result.get("Misconfigurations"), i, "Misconfigurations")):
        m = _item(raw, i, "Misconfigurations", j)
        # Only failures are findings; PASS entries appear with --include-non-failures.
        if str(m.get("Status") or "FAIL").upper() != "FAIL":
            continue
        where = f"Results[{i}].Misconfigurations[{j}]"
        mid = _str(m.get("ID"), f"{where}.ID") or _str(m.get("AVDID"), f"{where}.AVDID")
        if not mid:
            raise InputError(f"malformed Trivy report: {where} has no ID")
        aliases = {a for a in (m.get("AVDID"),) if isinstance(a, str) and a and a != mid}
        if re.fullmatch(r"[A-Z0-9]+-\d+", mid) and not mid.startswith("AVD-"):
            # New-style ids (DS-0002) are the old AVD ids (AVD-DS-0002) renamed.
            aliases.add(f"AVD-{mid}")
        yield Finding(
            cls="misconfiguration",
            id=mid,
            severity=_severity(m.get("Severity"), where),
            target=target,
            title=_str(m.get("Title"), f"{where}.Title"),
            url=m.get("PrimaryURL") or None,
            aliases=tuple(sorted(aliases)),
        )


def _secrets(result: dict[str, Any], target: str, i: int) -> Iterable[Finding]:
    for j, raw in enumerate(_list(result.get("Secrets"), i, "Secrets")):
        s = _item(raw, i, "Secrets", j)
        where = f"Results[{i}].Secrets[{j}]"
        rid = _str(s.get("RuleID"), f"{where}.RuleID")
        if not rid:
            raise InputError(f"malformed Trivy report: {where} has no RuleID")
        line = s.get("StartLine")
        yield Finding(
            cls="secret",
            id=rid,
            severity=_severity(s.get("Severity"), where),
            target=target,
            title=_str(s.get("Title"), f"{where}.Title"),
            line=line if isinstance(line, int) else None,
        )


# --- ignore files ----------------------------------------------------------------------


def parse_ignorefile(text: str, name: str) -> list[IgnoreRule]:
    """Parse `.trivyignore` (plain) or `.trivyignore.yaml` (chosen by extension, as Trivy)."""
    if name.endswith((".yaml", ".yml")):
        return _parse_ignore_yaml(text, name)
    return _parse_ignore_plain(text, name)


def _parse_ignore_plain(text: str, name: str) -> list[IgnoreRule]:
    rules: list[IgnoreRule] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        expires: dt.date | None = None
        for extra in fields[1:]:
            if extra.startswith("exp:"):
                try:
                    expires = dt.date.fromisoformat(extra[4:])
                except ValueError as exc:
                    # Trivy warns and skips the line; we refuse, so a typo never
                    # silently re-enables (or keeps) a finding without anyone seeing it.
                    raise InputError(
                        f"{name}:{lineno}: bad expiry date {extra[4:]!r}; use exp:YYYY-MM-DD"
                    ) from exc
        rules.append(IgnoreRule(id=fields[0], source=f"{name}:{lineno}", expires=expires))
    return rules


_YAML_SECTIONS: dict[str, FindingClass | None] = {
    "vulnerabilities": "vulnerability",
    "misconfigurations": "misconfiguration",
    "secrets": "secret",
    "licenses": None,  # licence findings are not gated; entries are read and unused
}


def _parse_ignore_yaml(text: str, name: str) -> list[IgnoreRule]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{name} is not valid YAML: {exc}") from exc
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise InputError(f"{name}: expected a mapping of vulnerabilities/misconfigurations/...")
    unknown = set(doc) - set(_YAML_SECTIONS)
    if unknown:
        raise InputError(f"{name}: unknown section(s) {', '.join(sorted(map(str, unknown)))}")
    rules: list[IgnoreRule] = []
    for section, cls in _YAML_SECTIONS.items():
        if cls is None:
            continue
        entries = doc.get(section) or []
        if not isinstance(entries, list):
            raise InputError(f"{name}: `{section}` must be a list")
        for k, entry in enumerate(entries):
            where = f"{name}: {section}[{k}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise InputError(f"{where} needs an `id`")
            expires = entry.get("expired_at")
            if isinstance(expires, dt.datetime):
                expires = expires.date()
            elif isinstance(expires, str):
                try:
                    expires = dt.date.fromisoformat(expires)
                except ValueError as exc:
                    raise InputError(f"{where}: expired_at must be YYYY-MM-DD") from exc
            elif expires is not None and not isinstance(expires, dt.date):
                raise InputError(f"{where}: expired_at must be YYYY-MM-DD")
            paths = entry.get("paths") or []
            purls = entry.get("purls") or []
            if not all(isinstance(p, str) for p in [*paths, *purls]):
                raise InputError(f"{where}: paths and purls must be lists of strings")
            rules.append(
                IgnoreRule(
                    id=entry["id"],
                    source=f"{name} ({section})",
                    reason=str(entry.get("statement") or ""),
                    expires=expires,
                    paths=tuple(paths),
                    purls=tuple(purls),
                    cls=cls,
                )
            )
    return rules


def policy_ignores(policy: TrivyPolicy) -> list[IgnoreRule]:
    return [
        IgnoreRule(id=i.id, source="policy", reason=i.reason, expires=i.expires)
        for i in policy.ignores
    ]


def _glob_match(pattern: str, path: str) -> bool:
    """doublestar semantics: `**` spans directories, `*` and `?` stay inside one."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.fullmatch("".join(out), path) is not None


def _purl_parts(purl: str) -> tuple[str, str | None]:
    base = purl.split("#", 1)[0].split("?", 1)[0]
    name, _, version = base.rpartition("@") if "@" in base.split("/")[-1] else (base, "", "")
    return name, version or None


def _purl_match(rule: str, actual: str) -> bool:
    rule_name, rule_version = _purl_parts(rule)
    name, version = _purl_parts(actual)
    return rule_name == name and (rule_version is None or rule_version == version)


# --- policy --------------------------------------------------------------------------


def evaluate(
    report: TrivyReport,
    policy: TrivyPolicy,
    ignores: Sequence[IgnoreRule] = (),
    *,
    today: dt.date | None = None,
) -> ScanResult:
    """Apply blocking severities, --ignore-unfixed and every ignore that has not expired."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    rules = [*policy_ignores(policy), *ignores]
    live = [r for r in rules if not r.expired(today)]
    expired = [r for r in rules if r.expired(today)]
    blocking_sevs = {s.upper() for s in policy.blocking_severities}
    unknown = blocking_sevs - set(SEVERITIES)
    if unknown:
        raise InputError(
            f"unknown severity {', '.join(sorted(unknown))}; use {', '.join(SEVERITIES)}"
        )

    active: list[Finding] = []
    ignored: list[tuple[Finding, IgnoreRule]] = []
    for f in report.findings:
        rule = next((r for r in live if r.matches(f)), None)
        if rule is not None:
            ignored.append((f, rule))
        else:
            active.append(f)
    blocking = [
        f
        for f in active
        if f.severity in blocking_sevs and (f.has_fix or not policy.ignore_unfixed)
    ]
    return ScanResult(
        report=report,
        policy=policy,
        findings=active,
        blocking=blocking,
        ignored=ignored,
        expired_ignores=expired,
    )


def scan(
    data: bytes,
    policy: TrivyPolicy,
    ignorefiles: Sequence[tuple[str, str]] = (),
    *,
    today: dt.date | None = None,
) -> ScanResult:
    """Parse a report and gate it. `ignorefiles` is a list of (name, text)."""
    rules: list[IgnoreRule] = []
    for name, text in ignorefiles:
        rules.extend(parse_ignorefile(text, name))
    return evaluate(parse_report(data), policy, rules, today=today)
