"""GTO-compatible tag names, and reading them back into registry events.

    churn@v1.2.0               registration of a version
    churn@v1.2.0!              deregistration (mlbot's deprecate)
    churn#production#7         assignment of a stage (points at the version's registration commit)
    churn#production!#8        unassignment (written for the version a rollback demotes)
    churn@deprecated           deprecation of the whole artifact (GTO's `gto deprecate NAME`)

mlbot writes a counter on every stage tag: 1 + the highest counter among the
model's tags, so the order of events survives even where timestamps tie.
GTO also writes the simple notation (`churn#prod`, no counter) and may put a
counter on any tag (`churn@v1.2.0#3`, `churn@deprecated#4`): all are read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from bot.registry.names import MODEL_NAME, STAGE_NAME

Kind = Literal["registration", "deregistration", "assignment", "unassignment", "deprecation"]

_VERSION = r"v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?"
_MODEL = MODEL_NAME.pattern.strip("^$")
_STAGE = STAGE_NAME.pattern.strip("^$")
_COUNTER = r"(?:#(?P<n>\d+))?"
_REGISTRATION = re.compile(rf"^(?P<model>{_MODEL})@(?P<version>{_VERSION})(?P<bang>!)?{_COUNTER}$")
_STAGE_TAG = re.compile(rf"^(?P<model>{_MODEL})#(?P<stage>{_STAGE})(?P<bang>!)?{_COUNTER}$")
_DEPRECATION = re.compile(rf"^(?P<model>{_MODEL})@deprecated{_COUNTER}$")
# GTO's order of events that share a timestamp (gto.base: BaseEvent.priority).
PRIORITY: dict[str, int] = {
    "deprecation": 2,
    "registration": 3,
    "deregistration": 4,
    "assignment": 5,
    "unassignment": 6,
}

RECORD_DIGEST_KEY = "mlbot-record-sha256"


def registration(model: str, version: str) -> str:
    return f"{model}@{version}"


def deregistration(model: str, version: str) -> str:
    return f"{model}@{version}!"


def assignment(model: str, stage: str, counter: int) -> str:
    return f"{model}#{stage}#{counter}"


def unassignment(model: str, stage: str, counter: int) -> str:
    return f"{model}#{stage}!#{counter}"


@dataclass(frozen=True)
class TagRef:
    """An annotated tag as read from the repository."""

    name: str
    target: str  # the commit the tag points at
    tagged_at: dt.datetime
    message: str = ""
    annotated: bool = True
    tagger: str = ""
    tagger_email: str = ""

    @property
    def tagged_by(self) -> str:
        """`Name <email>`, the form mlbot records people in."""
        return f"{self.tagger} <{self.tagger_email}>" if self.tagger_email else self.tagger


@dataclass(frozen=True)
class TagEvent:
    model: str
    kind: Kind
    ref: TagRef
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    @property
    def order(self) -> tuple:
        """GTO's order of events: tagger time, then kind, then mlbot's counter."""
        return (self.ref.tagged_at, PRIORITY[self.kind], self.counter or 0, self.ref.name)


def parse(ref: TagRef) -> TagEvent | None:
    """The registry event a tag stands for, or None for a tag that is not ours."""
    counter = None
    if m := _REGISTRATION.match(ref.name):
        kind: Kind = "deregistration" if m["bang"] else "registration"
        counter = int(m["n"]) if m["n"] else None
        return TagEvent(m["model"], kind, ref, version=m["version"], counter=counter)
    if m := _STAGE_TAG.match(ref.name):
        kind = "unassignment" if m["bang"] else "assignment"
        counter = int(m["n"]) if m["n"] else None
        return TagEvent(m["model"], kind, ref, stage=m["stage"], counter=counter)
    if m := _DEPRECATION.match(ref.name):
        counter = int(m["n"]) if m["n"] else None
        return TagEvent(m["model"], "deprecation", ref, counter=counter)
    return None


# GTO's own tag grammar (gto.constants.tag_re), with its wider names: letters of either case,
# '_', '/', and a `folder:` prefix written as `folder=`.
_GTO_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
_GTO_TAG = re.compile(
    rf"^(?:[a-zA-Z0-9\-_./]+=)?{_GTO_NAME}"
    rf"(?:(?:#{_GTO_NAME}|@v\d+\.\d+\.\d+\S*?)!?|@deprecated|@created)(?:#\d+)?$"
)


def unread_gto_tag(name: str) -> bool:
    """A tag GTO reads that mlbot does not: a name outside mlbot's allowlists, `@created`."""
    return bool(_GTO_TAG.match(name)) and parse(TagRef(name, "", dt.datetime.min)) is None


def record_digest(message: str) -> str | None:
    """The version record's sha256 written into a registration tag's message."""
    for line in message.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == RECORD_DIGEST_KEY:
            return value.strip()
    return None


def next_counter(events: list[TagEvent]) -> int:
    return 1 + max((e.counter or 0 for e in events), default=0)
