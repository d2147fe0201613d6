"""Markdown sections for the PR comment, and the CLI's plain-text summaries."""

from __future__ import annotations

from bot import rendering
from bot.supply_chain.cosign.verification import SignatureVerdict
from bot.supply_chain.policy import SEVERITIES
from bot.supply_chain.trivy import ScanResult

_ENV = rendering.environment("bot.supply_chain")

# Finding titles come from scanned third-party data: the shared `md` filter keeps them
# from breaking tables or injecting HTML.


def _ctx(result: ScanResult) -> dict[str, object]:
    expired_ids = {r.id for r in result.expired_ignores}
    return {
        "r": result,
        "severities": SEVERITIES,
        "expired_ids": expired_ids,
        "expired_by_id": {r.id: r for r in result.expired_ignores},
    }


# A summary, not the report: hundreds of rows would bury the verdict and can pass GitHub's
# 1 MiB step-summary limit. The plain-text summary (`mlbot scan-gate` without --json, which
# the scan action prints to its log) keeps every finding.
SHOWN_BLOCKING = 50
SHOWN_IGNORED = 20
ELSEWHERE = "`mlbot scan-gate` lists every one in its text output (in CI, the scan step's log)"


def scan_markdown(
    result: ScanResult, *, shown_blocking: int = SHOWN_BLOCKING, shown_ignored: int = SHOWN_IGNORED
) -> str:
    return _ENV.get_template("scan.md.j2").render(
        **_ctx(result),
        shown_blocking=shown_blocking,
        shown_ignored=shown_ignored,
        elsewhere=ELSEWHERE,
    )


def scan_text(result: ScanResult) -> str:
    return _ENV.get_template("scan.txt.j2").render(**_ctx(result))


def signature_markdown(verdict: SignatureVerdict) -> str:
    return _ENV.get_template("signature.md.j2").render(v=verdict)


def signature_text(verdict: SignatureVerdict) -> str:
    return _ENV.get_template("signature.txt.j2").render(v=verdict)
