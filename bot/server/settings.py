"""The bot's configuration, read from the environment (prefix `MLBOT_`).

Secrets are `SecretStr` so that printing or logging the settings object never
shows them. Nothing here talks to the network: `credentials_loaded()` only
says whether enough was given to authenticate.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import InputError
from bot.server.store import location
from bot.server.store.jobs import DEFAULT_LEASE_SECONDS

# GitHub caps webhook payloads at 25 MB and does not deliver larger ones.
GITHUB_MAX_PAYLOAD_BYTES = 25 * 1024 * 1024


class Settings(BaseSettings):
    """Everything `mlbot serve` needs; each field is `MLBOT_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="MLBOT_", extra="ignore")

    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Webhook secret; several, comma separated, while rotating.",
    )
    alert_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token Alertmanager sends to POST /alerts; several, comma separated,"
            " while rotating. Unset: /alerts refuses everything."
        ),
    )
    app_id: int | None = Field(default=None, description="GitHub App id.")
    private_key: SecretStr | None = Field(default=None, description="GitHub App private key (PEM).")
    private_key_path: Path | None = Field(default=None, description="File holding the PEM key.")
    github_token: SecretStr | None = Field(default=None, description="Token for simple setups.")
    github_url: str = Field(default="https://api.github.com", description="REST API root.")
    github_cache: bool = Field(
        default=True,
        description=(
            "Conditional requests: repeated GitHub reads revalidated by ETag, their 304s"
            " not counted against the rate limit."
        ),
    )
    database: str = Field(
        default=".mlbot/queue.sqlite3",
        description=(
            "Where deliveries and jobs are stored: an SQLite file (one replica)"
            " or postgresql://user:password@host/db (several replicas)."
        ),
    )
    queue_sync: Literal["full", "normal"] = Field(
        default="full",
        description=(
            "full: a delivery is fsynced before its 202 (survives power loss);"
            " normal: it survives a crash of the bot, not of the machine, for more throughput."
        ),
    )
    workers: int = Field(default=4, ge=1, le=64, description="Worker threads running jobs.")
    worker_nice: int = Field(
        default=19,
        ge=0,
        le=19,
        description=(
            "Niceness added to the worker process under `mlbot serve`: when the CPU is"
            " short, acknowledging deliveries (GitHub waits 10 s) goes before running jobs."
        ),
    )
    lease_seconds: float = Field(
        default=DEFAULT_LEASE_SECONDS,
        ge=1,
        le=3600,
        description="How long a running job is its replica's without a renewal.",
    )
    recovery_seconds: float = Field(
        default=600.0,
        ge=0,
        description=(
            "How often the App's delivery log is checked for deliveries that failed"
            " (also on start); 0 turns it off."
        ),
    )
    max_attempts: int = Field(default=5, ge=1, le=100, description="Tries before dead-letter.")
    retry_base_seconds: float = Field(default=2.0, ge=0, description="First retry delay.")
    retry_max_seconds: float = Field(default=300.0, ge=0, description="Longest retry delay.")
    bot_login: str = Field(default="mlbot[bot]", description="The App's own login, ignored.")
    max_body_bytes: int = Field(default=GITHUB_MAX_PAYLOAD_BYTES, ge=1024)
    log_level: str = Field(default="INFO")

    @field_validator("private_key")
    @classmethod
    def _real_newlines(cls, value: SecretStr | None) -> SecretStr | None:
        # A PEM pasted into a one-line environment variable often carries "\n" literally.
        if value is None:
            return None
        return SecretStr(value.get_secret_value().replace("\\n", "\n"))

    @field_validator("database", mode="before")
    @classmethod
    def _path_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, Path) else value

    def store_location(self) -> location.Location:
        """The store MLBOT_DATABASE names; InputError, saying what would do, for anything else."""
        return location.parse(self.database)

    @field_validator("github_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def webhook_secrets(self) -> list[bytes]:
        """Every accepted secret, as bytes; empty when none is configured."""
        if self.webhook_secret is None:
            return []
        parts = self.webhook_secret.get_secret_value().split(",")
        return [p.strip().encode() for p in parts if p.strip()]

    def alert_tokens(self) -> list[bytes]:
        """Every accepted bearer token of `POST /alerts`, as bytes; empty when none is set."""
        if self.alert_token is None:
            return []
        parts = self.alert_token.get_secret_value().split(",")
        return [p.strip().encode() for p in parts if p.strip()]

    def require_webhook_secret(self) -> None:
        """Refuse to run a server that would accept unsigned deliveries."""
        if not self.webhook_secrets():
            raise InputError(
                "MLBOT_WEBHOOK_SECRET is not set: the bot refuses to accept unsigned "
                "webhooks; set it to the secret configured on the GitHub App."
            )

    def private_key_pem(self) -> str | None:
        """The App's private key, from MLBOT_PRIVATE_KEY or the file MLBOT_PRIVATE_KEY_PATH."""
        if self.private_key is not None:
            return self.private_key.get_secret_value()
        if self.private_key_path is not None:
            try:
                return self.private_key_path.read_text()
            except OSError:
                return None
        return None

    def credentials_loaded(self) -> bool:
        """True when the bot can authenticate: an App id with its key, or a token."""
        if self.github_token is not None and self.github_token.get_secret_value():
            return True
        return self.app_id is not None and bool(self.private_key_pem())

    def secret_values(self) -> list[str]:
        """Every secret value configured, so log output can be scrubbed of them."""
        values = [s.decode() for s in (*self.webhook_secrets(), *self.alert_tokens())]
        if self.github_token is not None:
            values.append(self.github_token.get_secret_value())
        with contextlib.suppress(InputError):  # an unusable setting is refused elsewhere
            values += self.store_location().secrets()
        key = self.private_key_pem()
        if key:
            values.append(key)
        return [v for v in values if v]
