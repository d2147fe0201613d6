"""Markdown sections for the PR comment, and the CLI's plain-text summaries."""

from __future__ import annotations

import jinja2

from bot.supply_chain.cosign import SignatureVerdict
from bot.supply_chain.policy import SEVERITIES
from bot.supply_chain.trivy import ScanResult

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.supply_chain", "templates"),
    autoescape=False,  # Markdown and terminal text, not HTML  # noqa: S701
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def _md(text: object) -> str:
    # Finding titles come from scanned third-party data: keep them from breaking tables.
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


_ENV.filters["md"] = _md


def _ctx(result: ScanResult) -> dict[str, object]:
    expired_ids = {r.id for r in result.expired_ignores}
    return {
        "r": result,
        "severities": SEVERITIES,
        "expired_ids": expired_ids,
        "expired_by_id": {r.id: r for r in result.expired_ignores},
    }


def scan_markdown(result: ScanResult) -> str:
    return _ENV.get_template("scan.md.j2").render(**_ctx(result))


def scan_text(result: ScanResult) -> str:
    return _ENV.get_template("scan.txt.j2").render(**_ctx(result))


def signature_markdown(verdict: SignatureVerdict) -> str:
    return _ENV.get_template("signature.md.j2").render(v=verdict)


def signature_text(verdict: SignatureVerdict) -> str:
    return _ENV.get_template("signature.txt.j2").render(v=verdict)
