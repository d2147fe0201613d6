"""The GitHub clients the workers' handlers use, built from the settings."""

from __future__ import annotations

import threading
from typing import Any

from bot.server.settings import Settings
from bot.webhooks.context import GitHubFactory


def default_github_factory(settings: Settings) -> GitHubFactory:
    """Clients from `bot.github` (imported on first use, so the server starts without it)."""
    lock = threading.Lock()
    built: list[Any] = []

    def factory() -> Any:
        with lock:
            if not built:
                from bot.github.client import GitHubClientFactory

                token = settings.github_token.get_secret_value() if settings.github_token else None
                built.append(
                    GitHubClientFactory(
                        settings.github_url,
                        app_id=settings.app_id,
                        private_key=settings.private_key_pem(),
                        token=token,
                        cache=settings.github_cache,
                    )
                )
        return built[0]

    def for_installation(installation_id: int | None) -> Any:
        return factory().for_installation(installation_id)

    def for_repository(full_name: str) -> Any:
        return factory().for_installation(factory().installation_of(full_name))

    # Alerts name a repository, not an installation (`bot.webhooks.handlers.incidents`).
    for_installation.for_repository = for_repository  # type: ignore[attr-defined]
    return for_installation
