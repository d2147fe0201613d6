"""The attacker's tools: replaying a captured, validly signed delivery under a new
`X-GitHub-Delivery`, commits pushed straight onto main, earlier registry history written
as the CLI would, and reading what the bot answered (`ask`, `refusal`), wrote and reported
(`tamper_report`).

Every attack asserts the safe outcome a user would see: nothing written that the code
owners did not approve, and one honest reply.
"""

from __future__ import annotations

import re
import time
import urllib.request
import uuid
from collections.abc import Iterable

from bot.config.load import parse_config, policy_for
from bot.registry import audit, schema
from bot.registry.git_store import GitStore
from bot.registry.service import Registry
from bot.registry.store import Identity
from bot.simulator.delivery import Delivery, sign
from bot.simulator.state import Issue
from tests.e2e.conftest import MLBOT_YML, SECRET, World

__all__ = ["World"]

KEY = re.compile(r"<!-- mlbot:(?P<kind>reply|pending|done) (?P<key>\S+) part (?P<part>\d+)")
STAGES = "registry/cancer/stages.yaml"


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


def ask(world: World, number: int, command: str, *, user: str = "carol") -> str:
    """Post `command` on issue or PR `number` and settle: the one reply the bot gives it."""
    cid = world.comment(number, command, user=user)
    world.settle()
    (reply,) = replies_to(world, number, cid)
    return reply


def refusal(world: World, number: int, command: str, *, user: str = "carol") -> str:
    """`ask`, asserting that main did not move: the reply to a command that wrote nothing."""
    before = world.main_sha()
    reply = ask(world, number, command, user=user)
    assert world.main_sha() == before
    return reply


def assert_ignored(world: World, number: int, bodies: Iterable[str], *, user: str) -> None:
    """Each of `bodies` posted as a comment on `number`: none runs, none is answered."""
    before = world.main_sha()
    for body in bodies:
        world.comment(number, body, user=user)
    world.settle()
    assert world.main_sha() == before
    assert world.command_replies(number) == []


def pending_rollback(world: World) -> tuple[int, int]:
    """carol's `/rollback cancer because latency` on a new incident issue, answered and
    waiting for a code owner's approval: the issue's number and the command's comment id."""
    issue = world.issue()
    cid = world.comment(issue, "/rollback cancer because latency", user="carol")
    world.settle()
    return issue, cid


def push_to_main(world: World, files: dict[str, str]) -> str:
    """A code owner's commit straight onto main (a hand edit, a bad merge): its sha."""
    return world.sim.push(world.repo, "main", files, author="alice")


def tamper_issues(world: World) -> list[Issue]:
    return [
        i for i in world.sim.issues(world.repo) if i.pull is None and "mlbot:tamper" in i.labels
    ]


def tamper_report(world: World) -> Issue:
    """The one tamper report the bot has opened."""
    (issue,) = tamper_issues(world)
    return issue


def hand_edit(world: World, **author) -> str:
    """Point production at v1.2.0 by editing stages.yaml and pushing it to main."""
    text = world.git("show", f"main:{STAGES}").replace("version: v1.1.0", "version: v1.2.0", 1)
    return world.sim.push(world.repo, "main", {STAGES: text}, message="hotfix", **author)


def cli_registry(world: World) -> Registry:
    """The registry on main, written with the real registry code by alice (as the CLI
    would) and fetched by nobody: the bot reads main."""
    config = parse_config(MLBOT_YML)
    return Registry(
        GitStore(world.git_dir, branch="main"),
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@users.noreply.example"),
    )


def history(world: World, *steps: tuple[str, str, str]) -> None:
    """Earlier registry history written through `cli_registry`: ("promote", version, stage)
    steps."""
    registry = cli_registry(world)
    for action, version, stage in steps:
        assert action == "promote"
        registry.promote("cancer", version, stage, audit_info=audit.Audit(requested_by="alice"))


def wait_for_next_second() -> None:
    """Start at the top of a wall-clock second, so what follows shares GitHub's timestamp."""
    time.sleep(1.02 - time.time() % 1)


def outside_code(markdown: str) -> str:
    """The text of a reply with code spans and fenced blocks removed: where GitHub links."""
    markdown = re.sub(r"(?ms)^```.*?^```", "", markdown)
    markdown = re.sub(r"(`+)(?:(?!\1).)+?\1", "", markdown)
    return re.sub(r"<!--.*?-->", "", markdown, flags=re.S)


def deprecate(world: World, version: str) -> None:
    cli_registry(world).deprecate("cancer", version, audit_info=audit.Audit(requested_by="alice"))


def register_and_promote(world: World, version: str, *, holdout: dict[str, str]) -> None:
    """A version registered (by CI, with its holdout digest) and promoted to production."""
    registry = cli_registry(world)
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
