"""At most once per command identity, whatever delivery carries it and however often.

Every attempt at a command (a new comment, a retried job, a replayed payload,
an approval completing a pending command, a button) first looks for an
outcome of that identity (repository, source, id, line):

- a final reply of the bot's (done, refused, expired, an error) marked with
  its key: the command is over, nothing more is written or posted;
- a pending reply: the command waits for approvals; only the approval path
  may complete it;
- a registry commit whose `Command:` trailer names it: it was carried out
  (an earlier attempt wrote, then failed before replying). Looked for among
  the model's newest registry commits (one page, which reading the model's
  state reads anyway): that case is a retry minutes later, while the reply
  marker answers a replay at any later time.

Attempts at one identity run one at a time (`serialised`), and each re-reads
the outcome inside the lock, so concurrent approvals complete a pending
command once and reply once: within a process by a lock of its own, across
replicas by the store's lock on the identity (on PostgreSQL an advisory lock,
which holds one pooled connection: the pool has two per worker, as the
registry's per-model lock is taken inside it, always in that order).
"""

from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.commands.replies import parse_marker
from bot.registry import audit, plan

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import CommandId, Request

# Bounded: one lock per stripe; a thread holds at most one (only gated commands lock).
_STRIPES = tuple(threading.RLock() for _ in range(64))


@contextmanager
def serialised(rc: RepoContext, identity: CommandId) -> Iterator[None]:
    name = f"{identity.repo.lower()} {identity.key}"
    # Outer: this process's lock, so threads queue here rather than each holding a
    # pooled connection while waiting for the store's lock.
    with _STRIPES[zlib.crc32(name.encode()) % len(_STRIPES)]:
        if rc.model_lock is None:
            yield
            return
        # A key no model name can be ('#' is not allowed in one), in the lock's own space.
        with rc.model_lock(rc.full_name, f"#command {identity.key}"):
            yield


@dataclass(frozen=True)
class ReplyOutcome:
    state: Literal["final", "pending"]
    comment: dict[str, Any]
    fields: dict[str, str]


def bot_replies(rc: RepoContext, number: int, key: str) -> list[tuple[dict[str, Any], dict]]:
    """The bot's reply comments (part 1) to the command `key`, oldest first."""
    me = rc.bot_login.lower()
    found = []
    for comment in rc.comments(number):
        if ((comment.get("user") or {}).get("login") or "").lower() != me:
            continue
        fields = parse_marker(comment.get("body"))
        if fields and fields["key"] == key and fields["part"] == "1":
            found.append((comment, fields))
    return found


# A command's first reads (its module registers them by command name): sent beside the
# "already answered?" read, so that read costs no round trip of its own. Reads only, each
# a single round trip: nothing is written or posted before the answer is known, and a
# replay of an answered command costs those few reads at most. A read failing here fails
# again, with its reply, where the command uses it.
FIRST_READS: dict[str, Callable[[RepoContext, Request], list[Callable[[], object]]]] = {}


def _quietly(read: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        with contextlib.suppress(Exception):
            read()

    return run


def reply_outcome(rc: RepoContext, req: Request, *, fresh: bool = True) -> ReplyOutcome | None:
    """What the bot last said about this command, read from the issue as it is now."""
    if fresh:
        rc.forget_comments(req.number)
    reads: list[Callable[[], object]] = []
    if (first := FIRST_READS.get(req.invocation.name)) is not None:
        with contextlib.suppress(Exception):
            reads = first(rc, req)
    found, *_ = rc.gather(
        lambda: bot_replies(rc, req.number, req.key), *[_quietly(read) for read in reads]
    )
    latest: ReplyOutcome | None = None
    for comment, fields in found:
        state: Literal["final", "pending"] = "pending" if fields["kind"] == "pending" else "final"
        if latest is None or latest.state == "pending":
            latest = ReplyOutcome(state, comment, fields)
    return latest


def commit_outcome(
    rc: RepoContext, model: str, identity: CommandId
) -> tuple[str, list[str]] | None:
    """(commit, tags) of the registry commit this command wrote, if any."""
    for info in rc.registry_log(model):
        trailers = audit.parse_trailers(info.message).get("Command", [])
        if any(identity.matches(value) for value in trailers):
            return info.sha, [t.name for t in plan.declared_tags(info.sha, info.message)]
    return None
