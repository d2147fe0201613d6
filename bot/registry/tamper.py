"""Which commits on the default branch changed the registry without mlbot: a pure judgement.

The registry is written through mlbot only. A commit that touches
`registry/` is mlbot's when GitHub verified it and GitHub's commit author is
the App's bot account: GitHub signs what an App creates through the API and
nothing pushed, so the author *field* alone proves nothing (any git client
can write `mlbot[bot]` there). The one other writer allowed is the CI that
registers versions (`registration.writers` in the policy), and only for
registrations: new version records, nothing modified or removed. Everything
else is a finding: reported in a `mlbot:tamper` issue, and promotions of the
model are frozen until a code owner closes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_RECORD = re.compile(r"^registry/(?P<model>[^/]+)/versions/[^/]+\.yaml$")
_MODEL = re.compile(r"^registry/(?P<model>[^/]+)/")


@dataclass(frozen=True)
class PushedCommit:
    sha: str
    author_login: str | None  # GitHub's account for the commit's author, if it maps to one
    author_name: str  # what the commit's author field says (proves nothing)
    verified: bool
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def registry_paths(self) -> list[str]:
        return sorted(
            p for p in (*self.added, *self.modified, *self.removed) if p.startswith("registry/")
        )


@dataclass(frozen=True)
class Finding:
    commit: PushedCommit
    model: str
    paths: tuple[str, ...]
    why: str


# Said by the tamper report and by a pull request's check alike.
RULE = (
    "Registry changes go through mlbot (`/promote`, `/rollback`) so that the code owners"
    " approve them and the audit log says who did."
)


def hand_edits(paths: Iterable[str], model: str) -> list[str]:
    """The files of `model`'s registry among `paths` (a pull request's changed files)."""
    return sorted(p for p in paths if (m := _MODEL.match(p)) and m["model"] == model)


def explain_pull(model: str, paths: Sequence[str]) -> str:
    """Why a pull request that edits the registry by hand is refused."""
    return (
        f"this pull request changes {', '.join(paths)} by hand, and the registry of {model}"
        f" is never changed without mlbot. {RULE}"
    )


def touches_registry(paths: Iterable[str]) -> bool:
    return any(p.startswith("registry/") for p in paths)


def judge(commit: PushedCommit, *, bot_login: str, writers: Sequence[str] = ()) -> list[Finding]:
    """One finding per model whose registry files the commit changed without mlbot."""
    paths = commit.registry_paths
    if not paths:
        return []
    login = (commit.author_login or "").lower()
    if commit.verified and login == bot_login.lower():
        return []
    registrations_only = all(p in commit.added and _RECORD.match(p) for p in paths)
    if registrations_only and login and login in {w.lower() for w in writers}:
        return []
    if commit.verified:
        why = f"it was made by {commit.author_login or commit.author_name}, not by mlbot"
    else:
        why = (
            "it is not a commit mlbot made (GitHub did not verify it; its author field says "
            f"{commit.author_name!r}, which anyone can write)"
        )
    by_model: dict[str, list[str]] = {}
    for path in paths:
        m = _MODEL.match(path)
        by_model.setdefault(m["model"] if m else "?", []).append(path)
    return [Finding(commit, model, tuple(p), why) for model, p in sorted(by_model.items())]
