"""A real PostgreSQL server for the tests and benchmarks, started with initdb and pg_ctl.

It lives in a temporary directory, listens on loopback only, on a free
port, with password authentication. initdb refuses to run as root, so as
root the server runs as an unprivileged user (`postgres`, created if
missing). Without the binaries (Debian: `apt-get install postgresql`) the
tests that need it skip and say why, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.server.live import free_port

USER = "mlbot"


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, newest version first, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_reason() -> str:
    return (
        "PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        " (Debian), or put them on PATH"
    )


def _as_user() -> list[str]:
    """The command prefix that runs a server binary as an unprivileged user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True,
        )
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PostgresServer:
    bin: Path
    root: Path
    port: int
    password: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*_as_user(), str(self.bin / "pg_ctl"), "stop", "-D", str(self.root / "data"),
             "-m", "immediate", "-s"],
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def start(durable: bool = False) -> PostgresServer:
    """Start a server; `durable=False` turns fsync off (tests), True keeps it (benchmarks)."""
    found = binaries()
    if found is None:
        raise FileNotFoundError(missing_reason())
    prefix = _as_user()
    root = Path(tempfile.mkdtemp(prefix="mlbot-pg-"))
    password = secrets.token_hex(16)
    (root / "pw").write_text(password + "\n")
    if prefix:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chown(root / "pw", entry.pw_uid, entry.pw_gid)
    data = root / "data"
    subprocess.run(
        [*prefix, str(found / "initdb"), "-D", str(data), "-U", USER, "--auth=scram-sha-256",
         f"--pwfile={root / 'pw'}", "--no-sync", "-E", "UTF8", "--locale=C"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    (root / "pw").unlink()
    port = free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root}"
        " -c max_connections=200"
    )
    if durable:
        # PostgreSQL's own default, as a real server has at least: with less, a benchmark's
        # inserts soon find no clean buffer and write one out on the acknowledgement's path.
        options += " -c shared_buffers=128MB"
    else:
        options += " -c shared_buffers=32MB"
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        [*prefix, str(found / "pg_ctl"), "start", "-D", str(data), "-w", "-t", "60", "-s",
         "-l", str(root / "log"), "-o", options],
        check=True,
    )  # fmt: skip
    return PostgresServer(found, root, port, password)


@contextlib.contextmanager
def running(durable: bool = False) -> Iterator[PostgresServer]:
    server = start(durable)
    try:
        yield server
    finally:
        server.stop()
