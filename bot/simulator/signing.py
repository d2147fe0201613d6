"""Commit verification as GitHub does it.

GitHub signs, with its own web-flow key, the commits it makes itself: those a GitHub
App creates through the API without a custom author, committer or signature, and merge
commits it writes. Those are `verified: true, reason: valid`. A pushed commit carries no
signature GitHub can check (the simulator signs nothing else), so it is unverified,
whatever name and email its author field gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.simulator.bare_repo import Person

if TYPE_CHECKING:
    from bot.simulator.request import RequestContext

# The committer of every commit GitHub writes itself.
WEB_FLOW = Person("GitHub", "noreply@github.com")

_SIGNATURE = (
    "-----BEGIN PGP SIGNATURE-----\n\n"
    "wsBcBAABCAAQBQJsimulatedweb-flowsignature\n"
    "-----END PGP SIGNATURE-----\n"
)


def github_signs(ctx: RequestContext, body: dict[str, Any]) -> bool:
    """Whether GitHub would sign the commit this API request creates."""
    app_token = ctx.token is not None and ctx.token.installation_id is not None
    custom = any(body.get(key) for key in ("author", "committer", "signature"))
    return app_token and not custom


def unsigned() -> dict[str, Any]:
    """The `verification` object of an unsigned commit or tag."""
    return {
        "verified": False,
        "reason": "unsigned",
        "signature": None,
        "payload": None,
        "verified_at": None,
    }


def verified(payload: str, verified_at: str) -> dict[str, Any]:
    """The `verification` object of a commit GitHub signed; `payload` is the signed text."""
    return {
        "verified": True,
        "reason": "valid",
        "signature": _SIGNATURE,
        "payload": payload,
        "verified_at": verified_at,
    }
