"""Small builders shared by the simulator and adapter tests."""

from __future__ import annotations

import httpx
from github import Auth, Github

from bot.simulator import GitHubSimulator
from bot.simulator.state import App


def pygithub(sim: GitHubSimulator, login: str = "alice") -> Github:
    """A plain PyGithub client acting as `login` (no retries: faults must surface)."""
    token = sim.add_token(login)
    return Github(
        auth=Auth.Token(token),
        base_url=sim.url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def http(sim: GitHubSimulator, login: str = "alice") -> httpx.Client:
    """A raw HTTP client, for requests PyGithub would never send."""
    token = sim.add_token(login)
    return httpx.Client(
        base_url=sim.url,
        headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
        timeout=10,
    )


def app_http(sim: GitHubSimulator, app: App) -> httpx.Client:
    """A raw HTTP client authenticated as the App itself, with a fresh JWT (RS256)."""
    import time

    import jwt

    now = int(time.time())
    token = jwt.encode(
        {"iat": now - 30, "exp": now + 540, "iss": str(app.id)}, app.private_key_pem, "RS256"
    )
    return httpx.Client(
        base_url=sim.url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
        timeout=10,
    )
