"""One command to run: who asked, where, and the identity it runs once under.

A command is identified by (repository, source, source id, line): a comment's
id and the line of the command in it, or another surface's own id (a
check-run button, say). Never by the delivery that carried it: the webhook
signature does not cover `X-GitHub-Delivery`, so a captured payload can be
sent again under any delivery id. Every reply marker and every registry
commit's `Command:` trailer names this identity, and every attempt looks for
them before acting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from bot.commands.grammar import Invocation

COMMENT = "comment"
_TRAILER = re.compile(
    r"^(?P<source>[a-z][a-z-]*) (?P<id>\d+) line (?P<line>\d+) in (?P<repo>[\w.-]+/[\w.-]+)"
)
# Commits written before identities were recorded carry the comment's URL only.
_LEGACY = re.compile(r"#issuecomment-(?P<id>\d+)$")


def parse_time(text: str | None) -> dt.datetime:
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def digest(text: str) -> str:
    """The digest a pending marker keeps of the exact command line it judged."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class CommandId:
    repo: str
    source: str
    id: int
    line: int

    @property
    def key(self) -> str:
        """The identity inside one issue's reply markers."""
        prefix = "" if self.source == COMMENT else f"{self.source}-"
        return f"{prefix}{self.id}.{self.line}"

    @property
    def trailer(self) -> str:
        """The `Command:` trailer of the registry commit this command writes."""
        return f"{self.source} {self.id} line {self.line} in {self.repo}"

    def matches(self, trailer: str) -> bool:
        """Whether a `Command:` trailer value names this command."""
        if m := _TRAILER.match(trailer):
            return (
                m["source"] == self.source
                and int(m["id"]) == self.id
                and int(m["line"]) == self.line
                and m["repo"].lower() == self.repo.lower()
            )
        legacy = _LEGACY.search(trailer.strip())
        return self.source == COMMENT and legacy is not None and int(legacy["id"]) == self.id


@dataclass(frozen=True)
class Request:
    """One command line, from a new comment, a pending one being completed, or a button.

    `comment_id` and `comment_url` are the source's id and link (a comment's, unless
    `source` says otherwise); `delivery_id` names the delivery being worked on, for
    error replies and logs only, never for identity.
    """

    full_name: str
    number: int
    is_pull: bool
    requester: str
    comment_id: int
    comment_url: str
    created_at: dt.datetime
    invocation: Invocation
    default_branch: str
    bot_login: str
    # A retried job: an earlier attempt may have carried the command out already.
    retry: bool = False
    # No attempt follows this one: GitHub failing now gets an error reply, not a retry.
    last_attempt: bool = True
    delivery_id: str = ""
    source: str = COMMENT
    # A pending command being completed: what its marker recorded when it was judged.
    judged: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def identity(self) -> CommandId:
        return CommandId(self.full_name, self.source, self.comment_id, self.invocation.line)

    @property
    def key(self) -> str:
        return self.identity.key

    @property
    def digest(self) -> str:
        return digest(self.invocation.raw)
