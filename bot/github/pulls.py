"""Facts of GitHub's pull-request payloads that several flows judge the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The workflow-run events that run for a pull request (`workflow_run.event`).
PR_EVENTS = frozenset({"pull_request", "pull_request_target"})


def head_repository(pull: Mapping[str, Any]) -> str:
    """`owner/name` of the repository the PR's head branch lives in ("" once deleted)."""
    return str(((pull.get("head") or {}).get("repo") or {}).get("full_name") or "")


def from_fork(pull: Mapping[str, Any], full_name: str) -> bool:
    """Whether the PR's head lives anywhere but `full_name` (a deleted fork counts)."""
    return head_repository(pull).lower() != full_name.lower()
