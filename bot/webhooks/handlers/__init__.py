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

router = Router(
    ping.router,
    workflow_runs.router,
    check_runs.router,
    check_run_buttons.router,
    deployments.router,
    drift.router,
    incidents.router,
    commands.router,
    registry_push.router,
)
