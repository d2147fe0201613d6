"""The bot's webhook handlers, one module per feature, composed into one router.

A new feature adds its module here; `mlbot serve` runs `router`.
"""

from __future__ import annotations

from bot.webhooks.handlers import (
    check_run_buttons,
    check_runs,
    commands,
    deployments,
    drift,
    incidents,
    ping,
    registry_push,
    workflow_runs,
)
from bot.webhooks.router import Router

# registry_push first: a push's tamper report must not wait on (or die with) another
# handler of the same push, e.g. deployments failing on the corrupt stages.yaml it reports.
router = Router(
    registry_push.router,
    ping.router,
    workflow_runs.router,
    check_runs.router,
    check_run_buttons.router,
    deployments.router,
    drift.router,
    incidents.router,
    commands.router,
)
