"""What becomes of a signed delivery: a job to store, a refusal, or nothing to do.

The endpoint has checked the signature and GitHub's headers; this decides the
rest from the payload itself, in whichever process stores the job (the queue
writer under `mlbot serve`, so that validating a payload never holds up the
process answering HTTP):
- a payload that does not fit the event's model is refused (400), nothing stored;
- an action no handler wants, or the bot's own comment (which would otherwise
  read as a command addressed to it), is acknowledged and forgotten;
- anything else is a job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from bot.server.store.jobs import NewJob
from bot.webhooks import payloads


@dataclass(frozen=True)
class Routes:
    """The (event, action) pairs some handler wants; action None means every action."""

    keys: frozenset[tuple[str, str | None]]
    bot_login: str | None = None

    @classmethod
    def of(cls, keys: Iterable[tuple[str, str | None]], bot_login: str | None) -> Routes:
        return cls(frozenset((event, action) for event, action in keys), bot_login)

    def handles(self, event: str, action: str | None) -> bool:
        return (event, None) in self.keys or (action is not None and (event, action) in self.keys)

    def events(self) -> frozenset[str]:
        return frozenset(event for event, _ in self.keys)

    def as_list(self) -> list[list[str | None]]:
        """For the settings line a child process reads."""
        return sorted(([event, action] for event, action in self.keys), key=str)


@dataclass(frozen=True)
class Rejected:
    """The payload does not fit the event's model: answered 400 with this message."""

    message: str


def admit(delivery_id: str, event: str, body: bytes, routes: Routes) -> NewJob | Rejected | None:
    """The job to store, a refusal, or None when no handler wants the delivery."""
    try:
        # Unknown fields are skipped here; the worker parses the stored body in full.
        payload = payloads.check(event, body)
    except ValidationError as exc:
        return Rejected(_first_error(exc))
    action = payload.action
    if not routes.handles(event, action) or _from_the_bot_itself(event, payload, routes):
        return None
    installation_id = payload.installation.id if payload.installation else None
    return NewJob(delivery_id, event, action, installation_id, body)


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "invalid payload"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return f"invalid payload at {where}: {first.get('msg', 'invalid')}"[:300]


def _from_the_bot_itself(event: str, payload: payloads.WebhookEvent, routes: Routes) -> bool:
    sender = payload.sender
    return (
        event == "issue_comment"
        and sender is not None
        and routes.bot_login is not None
        and sender.login == routes.bot_login
    )


# What storing a delivery came to, besides a Rejected.
NEW, DUPLICATE, IGNORED = "new", "duplicate", "ignored"
