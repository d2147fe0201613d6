"""Structured JSON logs, one object per line, scrubbed of secrets.

Every line about a delivery carries its `delivery_id` (GitHub shows the same
id on the App's "Advanced" page), so one grep follows a delivery from the
request to the last retry. Secrets never reach a log line: the configured
secret values and anything shaped like a GitHub token, a JWT or a private
key are replaced before the line is written, whatever the code logged.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable, MutableMapping
from typing import Any

REDACTED = "[REDACTED]"

# Shapes of credentials GitHub issues, and what we sign with.
_TOKEN_PATTERNS = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{16,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?i:(?:bearer|token)\s+)[A-Za-z0-9_.\-]{20,}",
    re.DOTALL,
)

_SHORTEST_TOKEN = 20  # "ghp_" and 16 characters

# Attributes every LogRecord has; anything else was passed with extra=.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured duplicate of msg
}


class Redactor:
    """Replaces known secret values and token-shaped strings with a marker."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        # No token shape is shorter than this; most values (ids, names) are.
        if len(text) < _SHORTEST_TOKEN:
            return text
        return _TOKEN_PATTERNS.sub(REDACTED, text)

    def scrub(self, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            return self(value)
        if value is None or kind in (bool, int, float):
            return value
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.scrub(v) for v in value]
        return self(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, extras, exc."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redact = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(self._redact.scrub(entry), ensure_ascii=False, default=str)


class BoundLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger that adds fixed fields (the delivery id) to every line, merged with extra=."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


def configure(level: str = "INFO", secrets: Iterable[str] = (), stream: Any = None) -> None:
    """Send every log record (ours and uvicorn's) to one JSON handler on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(Redactor(secrets)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
