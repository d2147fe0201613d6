"""The REST endpoints, one module per resource family, keyed by GitHub's operationId.

`POST /repos/{owner}/{repo}/check-runs` is `checks/create`, answered in `checks.py`;
importing this package registers every module's handlers in `HANDLERS`.
"""

from __future__ import annotations

from bot.simulator.rest import (  # noqa: F401 - imported to register their handlers
    actions,
    apps,
    checks,
    contents,
    deployments,
    git,
    hook_deliveries,
    issues,
    pulls,
    rate_limit,
    repos,
    statuses,
    users,
)
from bot.simulator.routes import HANDLERS

__all__ = ["HANDLERS"]
