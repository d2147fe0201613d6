"""What the server's child processes share: their settings, their router, their lifetime.

- The settings travel as one JSON line on the child's stdin (secrets never go
  on the command line or into a file).
- The router is named `module:attribute` and imported by the child.
- A child asks the kernel to kill it when its parent dies (Linux
  `PR_SET_PDEATHSIG`), so a `kill -9` of the server takes its children too.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
from typing import Any

from pydantic import SecretStr

from bot.server.settings import Settings

DEFAULT_ROUTER = "bot.webhooks.handlers:router"


def load_router(spec: str) -> Any:
    """The object named by `module:attribute`."""
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute or "router")


def settings_line(settings: Settings) -> bytes:
    values = {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in settings
    }
    return json.dumps(values, default=str).encode() + b"\n"


def read_settings(line: bytes) -> Settings:
    return Settings(_env_file=None, **json.loads(line))


def die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)
