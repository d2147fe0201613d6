"""Where the store lives, from `MLBOT_DATABASE`: an SQLite file or a PostgreSQL URL.

- a path (`.mlbot/queue.sqlite3`, `/data/queue.sqlite3`) or `sqlite:///path`:
  the embedded SQLite store, for one replica;
- `postgresql://user:password@host:5432/db` (or `postgres://`): the
  networked store several replicas share.
Anything else that looks like a URL is refused with the forms above, rather
than taken for a file name (`postgresql:` would otherwise become a folder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from bot.errors import InputError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_POSTGRES = ("postgresql", "postgres")


@dataclass(frozen=True)
class SqliteLocation:
    path: Path

    def shown(self) -> str:
        return str(self.path)

    def secrets(self) -> list[str]:
        return []


@dataclass(frozen=True)
class PostgresLocation:
    url: str

    def shown(self) -> str:
        """The URL without its password, for logs."""
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
        query = "&".join(
            f"{k}={'***' if k == 'password' else v}" for k, v in parse_qsl(parts.query)
        )
        return parts._replace(netloc=netloc, query=query).geturl()

    def secrets(self) -> list[str]:
        parts = urlsplit(self.url)
        found = [v for k, v in parse_qsl(parts.query) if k == "password"]
        if parts.password:
            found.append(parts.password)
        return [s for s in found if s]


Location = SqliteLocation | PostgresLocation

_FORMS = "a file path for SQLite (one replica) or postgresql://user:password@host/db"


def parse(value: str | Path) -> Location:
    """The store `MLBOT_DATABASE` names; InputError for anything mlbot cannot use."""
    if isinstance(value, Path):
        return SqliteLocation(value)
    text = value.strip()
    if not text:
        raise InputError(f"MLBOT_DATABASE is empty: give {_FORMS}.")
    match = _SCHEME.match(text)
    if match is None:
        return SqliteLocation(Path(text))
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        rest = text[len(match.group(0)) :]
        if not rest.startswith("///") or len(rest) == 3:
            raise InputError("MLBOT_DATABASE=sqlite:… must be sqlite:///path/to/file.")
        # As SQLAlchemy reads it: sqlite:///relative.db, sqlite:////absolute.db.
        return SqliteLocation(Path(rest[3:]))
    if scheme in _POSTGRES:
        parts = urlsplit(text)
        if not text[len(match.group(0)) :].startswith("//"):
            raise InputError(f"MLBOT_DATABASE={scheme}:… must be {scheme}://host/db.")
        if not parts.hostname and "host=" not in parts.query:
            raise InputError(f"MLBOT_DATABASE={scheme}://… names no host: {_FORMS}.")
        return PostgresLocation(text)
    raise InputError(
        f"MLBOT_DATABASE uses {scheme}://, which mlbot cannot store its queue in: give {_FORMS}."
    )
