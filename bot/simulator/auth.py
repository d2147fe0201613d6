"""Who is calling: a token (personal or installation) or, for App endpoints, the App's JWT."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.simulator.request import ApiError
from bot.simulator.state import ACCESS_LEVEL, App, Token

if TYPE_CHECKING:
    from bot.simulator.world import World

# Operations a GitHub App calls as itself, with its JWT rather than a token.
JWT_OPERATIONS = {
    "apps/get-authenticated",
    "apps/list-installations",
    "apps/get-installation",
    "apps/create-installation-access-token",
    "apps/get-repo-installation",
    "apps/get-org-installation",
    "apps/get-user-installation",
    "apps/list-webhook-deliveries",
    "apps/get-webhook-delivery",
    "apps/redeliver-webhook-delivery",
}


def authenticate(
    sim: World, operation_id: str, headers: dict[str, str]
) -> tuple[str | None, Token | None, App | None]:
    """(login, token, app) of the caller; raises 401 as GitHub does."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    _scheme, _, credential = auth.partition(" ")
    if not credential:
        raise ApiError(401, "Requires authentication")
    if operation_id in JWT_OPERATIONS:
        return None, None, verify_jwt(sim, credential)
    token = sim.tokens.get(credential)
    if token is None or (token.expires_at is not None and token.expires_at < sim.now()):
        raise ApiError(401, "Bad credentials")
    return token.login, token, None


def verify_jwt(sim: World, credential: str) -> App:
    import jwt

    try:
        claims = jwt.decode(credential, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise ApiError(401, "A JSON web token could not be decoded") from None
    app = next((a for a in sim.apps.values() if str(a.id) == str(claims.get("iss"))), None)
    if app is None:
        raise ApiError(401, "Integration not found")
    try:
        claims = jwt.decode(
            credential,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"]},
            leeway=60,
        )
    except jwt.PyJWTError as exc:
        raise ApiError(
            401,
            f"'Expiration time' claim ('exp') is invalid or the signature does not verify: {exc}",
        ) from None
    if claims["exp"] - claims["iat"] > 660:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
    return app


def require_permission(sim: World, token: Token | None, name: str, level: str) -> None:
    """403 as GitHub answers when an installation lacks the permission an operation needs.

    People's tokens are judged by repository role elsewhere; this is the App's side.
    """
    if token is None or token.installation_id is None:
        return
    inst = sim.installations.get(token.installation_id)
    held = (
        token.permissions if token.permissions is not None else (inst.permissions if inst else {})
    )
    granted = held.get(name)
    if ACCESS_LEVEL.get(granted or "", 0) < ACCESS_LEVEL[level]:
        raise ApiError(403, "Resource not accessible by integration")
