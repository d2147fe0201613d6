"""What the bot answers to a command: rendered from templates, posted once, split cleanly.

Every reply carries a hidden marker naming the command it answers
(`<!-- mlbot:reply 1234.1 -->`: comment id and line) and its kind, so a
retried job edits its earlier reply instead of posting a second one, and a
replayed command finds it has an outcome already (`bot.commands.once`). A
reply longer than GitHub's 65,536-character limit is cut with
`split_markdown` (fences and `<details>` closed and reopened) into numbered
parts, each with its own marker.

Words a person wrote are echoed only through `code` (or `md`, which escapes
HTML): inside a code span GitHub neither mentions `@someone` nor links `#12`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from bot import rendering
from bot.diff.render import GITHUB_COMMENT_LIMIT
from bot.errors import UsageError
from bot.rendering import code
from bot.rendering.split import split_markdown

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.commands.request import Request

__all__ = ["Reply", "UsageError", "code", "post", "render"]

Kind = Literal["done", "refused", "pending", "info", "usage", "error"]
ICON = {"done": "✅", "refused": "❌", "pending": "⏳", "info": "ℹ️", "usage": "❓", "error": "⚠️"}
_MARKER = re.compile(
    r"<!-- mlbot:(?P<kind>reply|pending|done) (?P<key>(?:[a-z][a-z-]*-)?\d+\.\d+)"
    r"(?: part (?P<part>\d+))?(?P<rest>[^>]*)-->"
)
# Room for the marker and the "part i of n" line ahead of each chunk.
_PART_RESERVE = 300


@dataclass
class Reply:
    """A reply to render: its kind, the template (without `command_`) and its variables."""

    kind: Kind
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    # "pending" replies carry what the completion re-checks (head, digest); see pending.
    marker_extra: str = ""


@cache
def _env() -> Any:
    return rendering.environment("bot.commands")


def render(template: str, /, **context: Any) -> str:
    return _env().get_template(f"command_{template}.md.j2").render(**context)


def marker_kind(reply: Reply) -> str:
    return {"pending": "pending", "done": "done"}.get(reply.kind, "reply")


def marker(kind: str, key: str, part: int = 1, extra: str = "") -> str:
    tail = f" {extra}" if extra else ""
    return f"<!-- mlbot:{kind} {key} part {part}{tail} -->"


def parse_marker(body: str | None) -> dict[str, str] | None:
    """kind, key, part and the extra fields (`head=...`) of a reply's marker, if it has one."""
    if not body:
        return None
    m = _MARKER.search(body)
    if m is None:
        return None
    out = {"kind": m["kind"], "key": m["key"], "part": m["part"] or "1"}
    for word in (m["rest"] or "").split():
        name, sep, value = word.partition("=")
        if sep:
            out[name] = value
    return out


def body_of(req: Request, reply: Reply) -> str:
    return render(
        reply.template,
        icon=ICON[reply.kind],
        kind=reply.kind,
        command=req.invocation.text,
        requester=req.requester,
        **reply.context,
    )


def report_key(key: str) -> str:
    """The key of the bot's approval report on the pending command `key`.

    Not a command's key (those start with a digit or name a source): nothing reads the
    report as a command's outcome, and a pending command never reads its marker.
    """
    return f"approvals-{key}"


def parts(
    req: Request, reply: Reply, limit: int = GITHUB_COMMENT_LIMIT, *, key: str | None = None
) -> list[str]:
    """The comment bodies of a reply, each under `limit` characters, each with its marker."""
    text = body_of(req, reply)
    chunks = split_markdown(text, limit - _PART_RESERVE)
    kind = marker_kind(reply)
    out = []
    for index, chunk in enumerate(chunks, start=1):
        head = marker(kind, key or req.key, index, reply.marker_extra) + "\n"
        if len(chunks) > 1:
            head += f"_Part {index} of {len(chunks)}._\n\n"
        out.append(head + chunk)
    return out


def post(
    rc: RepoContext,
    req: Request,
    reply: Reply,
    *,
    fresh: bool = False,
    key: str | None = None,
    edit_only: bool = False,
) -> list[str]:
    """Create the reply's comments, or edit the ones an earlier attempt posted.

    `fresh`: the caller has just listed the comments and found no reply to this command
    (saves a second listing). `key`: another marker key than the command's (its approval
    report, `report_key`). `edit_only`: change what was posted, create nothing. Returns
    the comments' URLs.
    """
    key = key or req.key
    bodies = parts(req, reply, key=key)
    kind = marker_kind(reply)
    me = rc.bot_login.lower()
    existing: dict[int, dict[str, Any]] = {}
    for comment in [] if fresh else rc.comments(req.number):
        found = parse_marker(comment.get("body"))
        if (
            found
            and found["kind"] == kind
            and found["key"] == key
            and ((comment.get("user") or {}).get("login") or "").lower() == me
        ):
            existing.setdefault(int(found["part"]), comment)
    urls = []
    for index, body in enumerate(bodies, start=1):
        old = existing.get(index)
        if old is None and edit_only:
            continue
        if old is None:
            data = rc.call(
                "POST", rc.repo_path(f"/issues/{req.number}/comments"), body={"body": body}
            )
        elif old.get("body") != body:
            data = rc.call(
                "PATCH", rc.repo_path(f"/issues/comments/{old['id']}"), body={"body": body}
            )
        else:
            data = old
        urls.append(str(data.get("html_url") or ""))
    rc.forget_comments(req.number)
    return urls


def react(rc: RepoContext, comment_id: int, content: str = "eyes") -> None:
    """Acknowledge a command at once (GitHub answers 200 for a reaction that exists)."""
    rc.call(
        "POST",
        rc.repo_path(f"/issues/comments/{comment_id}/reactions"),
        body={"content": content},
    )
