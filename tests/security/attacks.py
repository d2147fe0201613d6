"""The attacker's tools: replaying a captured, validly signed delivery under a new
`X-GitHub-Delivery`, earlier registry history written as the CLI would, and reading what
the bot answered and wrote.

Every attack asserts the safe outcome a user would see: nothing written that the code
owners did not approve, and one honest reply.
"""

from __future__ import annotations

import re
import urllib.request
import uuid

from bot.simulator.delivery import Delivery, sign
from tests.e2e.conftest import SECRET, World

__all__ = ["World"]

KEY = re.compile(r"<!-- mlbot:(?P<kind>reply|pending|done) (?P<key>\S+) part (?P<part>\d+)")


def deliveries(world: World, event: str, action: str | None = None) -> list[Delivery]:
    return [
        d
        for d in world.sim.webhooks.deliveries
        if d.event == event and (action is None or d.action == action)
    ]


def comment_delivery(world: World, comment_id: int) -> Delivery:
    return next(
        d
        for d in deliveries(world, "issue_comment", "created")
        if d.payload["comment"]["id"] == comment_id
    )


def replay(world: World, delivery: Delivery, delivery_id: str | None = None) -> int:
    """POST a captured delivery again: the same signed body, a new delivery id.

    The signature covers the body only, so anyone who saw one delivery (a proxy log, a
    leaked request) can send it again under any `X-GitHub-Delivery`.
    """
    sha256, _ = sign(SECRET, delivery.body)
    request = urllib.request.Request(
        f"{world.bot_url}/webhook",
        data=delivery.body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-Hub-Signature-256": sha256,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def answers(world: World, number: int) -> dict[str, list[str]]:
    """Command key (comment id.line) -> the bot's replies to it, oldest first."""
    out: dict[str, list[str]] = {}
    for body in world.command_replies(number):
        m = KEY.match(body)
        assert m, body[:200]
        if m["part"] == "1":
            out.setdefault(m["key"], []).append(body)
    return out


def replies_to(world: World, number: int, comment_id: int, line: int = 1) -> list[str]:
    return answers(world, number).get(f"{comment_id}.{line}", [])


def history(world: World, *steps: tuple[str, str, str]) -> None:
    """Earlier registry history written with the real registry code (as the CLI would):
    ("promote", version, stage) steps, then fetched by nobody: the bot reads main."""
    from bot.config.load import parse_config, policy_for
    from bot.registry import audit
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity
    from tests.e2e.conftest import MLBOT_YML

    config = parse_config(MLBOT_YML)
    registry = Registry(
        GitStore(world.git_dir, branch="main"),
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@users.noreply.example"),
    )
    for action, version, stage in steps:
        assert action == "promote"
        registry.promote("cancer", version, stage, audit_info=audit.Audit(requested_by="alice"))


def wait_for_next_second() -> None:
    """Start at the top of a wall-clock second, so what follows shares GitHub's timestamp."""
    import time

    time.sleep(1.02 - time.time() % 1)


def outside_code(markdown: str) -> str:
    """The text of a reply with code spans and fenced blocks removed: where GitHub links."""
    markdown = re.sub(r"(?ms)^```.*?^```", "", markdown)
    markdown = re.sub(r"(`+)(?:(?!\1).)+?\1", "", markdown)
    return re.sub(r"<!--.*?-->", "", markdown, flags=re.S)


def deprecate(world: World, version: str) -> None:
    from bot.config.load import parse_config, policy_for
    from bot.registry import audit
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity
    from tests.e2e.conftest import MLBOT_YML

    config = parse_config(MLBOT_YML)
    Registry(
        GitStore(world.git_dir, branch="main"),
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@users.noreply.example"),
    ).deprecate("cancer", version, audit_info=audit.Audit(requested_by="alice"))


def register_and_promote(world: World, version: str, *, holdout: dict[str, str]) -> None:
    """A version registered (by CI, with its holdout digest) and promoted to production."""
    from bot.config.load import parse_config, policy_for
    from bot.registry import audit, schema
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity
    from tests.e2e.conftest import MLBOT_YML

    config = parse_config(MLBOT_YML)
    registry = Registry(
        GitStore(world.git_dir, branch="main"),
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@users.noreply.example"),
    )
    who = audit.Audit(requested_by="alice")
    registry.register(
        "cancer",
        version=version,
        artifact=schema.Artifact(uri=f"s3://m/{version}", sha256="e" * 64, size=1),
        metrics={"accuracy": 0.95, "roc_auc": 0.98},
        lineage=schema.Lineage(data=holdout),
        audit_info=who,
    )
    for stage in ("staging", "production"):
        registry.promote("cancer", version, stage, audit_info=who)
