"""The workers of `mlbot serve`, in a child process of their own.

Why a process: worker threads share the GIL with the event loop that
acknowledges deliveries, so every job run (parse, handlers, logs, queue
updates) would delay acknowledgements. In a child process the acknowledging
process keeps a core to itself, and the two meet only in the SQLite queue.

The parent (`WorkerProcess`, in the server) and the child (`main`, run as
`python -m bot.server.worker_process ROUTER`) talk over the child's stdin and stdout:
- stdin: the settings as one JSON line at start (secrets never go on the
  command line or into a file), then one byte per stored batch of jobs, which
  wakes idle workers (no polling); end of file means "stop": running jobs
  finish, the child exits;
- stdout: a first line saying the workers are running (/healthz waits for
  it), then metric updates (jobs done/retried/dead, job durations, GitHub
  requests and errors), summed over a tenth of a second per line, which the
  server applies to its /metrics.

Crash semantics are those of threads in one process: the child asks the
kernel to kill it when its parent dies (Linux `PR_SET_PDEATHSIG`), so a
`kill -9` of the server stops the jobs mid-run, and the next start resumes
them. Whatever the platform, the child holds an exclusive lock on
`<database>.workers.lock` while it runs jobs on an SQLite store, so two
worker processes never run (or requeue) the jobs of one file at once; on
PostgreSQL, replicas' workers share the store and leases keep them apart.
The parent restarts a child that exits unexpectedly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bot.server import logs
from bot.server.children import (
    DEFAULT_ROUTER,
    die_with_parent,
    load_router,
    read_settings,
    settings_line,
)
from bot.server.github_clients import default_github_factory
from bot.server.metrics import Metrics
from bot.server.settings import Settings
from bot.server.store import SqliteLocation, make_store
from bot.server.workers import WorkerPool

log = logging.getLogger("mlbot.workers")

_READY = "ready"
_RESTART_DELAY_SECONDS = 1.0
# Metric families a child may update, and how: nothing else is accepted from the pipe.
_RELAYED = {
    "jobs": "inc",
    "job_duration": "observe",
    "github_requests": "inc",
    "github_errors": "inc",
    "deliveries_recovered": "inc",
}


class WorkerProcess:
    """The server's side: starts the child, wakes it, relays its metrics, restarts it."""

    def __init__(self, settings: Settings, metrics: Metrics, router: str = DEFAULT_ROUTER) -> None:
        self._settings = settings
        self._metrics = metrics
        self._router = router
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        # One long-lived thread starts every child and reads its output: the
        # kernel's parent-death signal is tied to the thread that forked.
        self._thread = threading.Thread(target=self._supervise, name="mlbot-workers", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        proc = self._proc
        return self._ready and proc is not None and proc.poll() is None

    def wake(self, count: int = 1) -> None:
        """New jobs were stored (called by the intake after each batch)."""
        proc = self._proc
        if count <= 0 or proc is None or proc.stdin is None:
            return
        # A full pipe already holds wake-ups; a dead child is restarted and
        # looks for work first thing: either way this one can be dropped.
        with contextlib.suppress(OSError, ValueError):
            os.write(proc.stdin.fileno(), bytes([min(count, 255)]))

    def stop(self, timeout: float = 15.0) -> None:
        """Let running jobs finish (the child waits up to 10 s), then make sure it is gone."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
            if proc is not None and proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread is not None:
            self._thread.join(timeout)

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.server.worker_process", self._router, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Logs go where the server's go.
            stderr=None,
            bufsize=0,
        )
        assert proc.stdin is not None
        proc.stdin.write(settings_line(self._settings))
        os.set_blocking(proc.stdin.fileno(), False)
        return proc

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    self._proc = proc = self._spawn()
                except OSError:
                    log.exception("the worker process could not be started")
                    proc = None
            if proc is not None:
                assert proc.stdout is not None
                self._relay(proc.stdout)
                self._ready = False
                code = proc.wait()
                if self._stopping.is_set():
                    return
                log.error("the worker process exited; restarting it", extra={"exit_code": code})
            self._stopping.wait(_RESTART_DELAY_SECONDS)

    def _relay(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message == _READY:
                self._ready = True
                continue
            try:
                for family, labels, values in message:
                    kind = _RELAYED[family]
                    child = getattr(self._metrics, family).labels(*labels)
                    if kind == "inc":
                        child.inc(float(values))
                    else:
                        for value in values:
                            child.observe(float(value))
            except (KeyError, TypeError, ValueError):
                log.warning("unreadable metric update from the worker process")


# -- the child ----------------------------------------------------------------


_Record = Callable[[str, tuple[str, ...], float], None]


class _RelayedChild:
    def __init__(self, record: _Record, family: str, labels: tuple[str, ...]) -> None:
        self._record, self._family, self._labels = record, family, labels

    def inc(self, amount: float = 1) -> None:
        self._record(self._family, self._labels, amount)

    def observe(self, value: float) -> None:
        self._record(self._family, self._labels, value)


class _RelayedFamily:
    def __init__(self, record: _Record, family: str) -> None:
        self._record, self._family = record, family

    def labels(self, *values: str) -> _RelayedChild:
        return _RelayedChild(self._record, self._family, values)


class MetricsRelay:
    """Stands in for `Metrics` in the child: updates are summed and sent to the server.

    One line every `interval` seconds at most (and a last one at `close`),
    whatever the job rate: a line per update would cost the server more than
    the update itself.
    """

    def __init__(self, out: IO[bytes], interval: float = 0.1) -> None:
        self._fd = out.fileno()
        self._interval = interval
        self._lock = threading.Lock()
        self._sums: dict[tuple[str, tuple[str, ...]], float] = {}
        self._observed: dict[tuple[str, tuple[str, ...]], list[float]] = {}
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._flush_often, name="mlbot-metrics", daemon=True)
        for family in _RELAYED:
            setattr(self, family, _RelayedFamily(self._record, family))

    def _record(self, family: str, labels: tuple[str, ...], value: float) -> None:
        key = (family, labels)
        with self._lock:
            if _RELAYED[family] == "inc":
                self._sums[key] = self._sums.get(key, 0.0) + value
            else:
                self._observed.setdefault(key, []).append(value)

    def ready(self) -> None:
        self._send(_READY)
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()

    def flush(self) -> None:
        with self._lock:
            sums, self._sums = self._sums, {}
            observed, self._observed = self._observed, {}
        updates = [[f, list(labels), value] for (f, labels), value in sums.items()]
        updates += [[f, list(labels), values] for (f, labels), values in observed.items()]
        if updates:
            self._send(updates)

    def _flush_often(self) -> None:
        while not self._closed.wait(self._interval):
            self.flush()

    def _send(self, message: object) -> None:
        data = json.dumps(message).encode() + b"\n"
        while data:  # a long line may be written in parts; only this thread writes
            data = data[os.write(self._fd, data) :]


def _lock_queue(database: Path) -> IO[bytes] | None:
    """Wait for an SQLite store's worker lock (an earlier child may still be finishing).

    A PostgreSQL store needs none: replicas share it, leases keep them apart.
    """
    handle = open(Path(f"{database}.workers.lock"), "ab")  # noqa: SIM115 (held until exit)
    try:
        import fcntl
    except ImportError:  # not on POSIX: rely on the parent-death handling alone
        return handle
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def main(argv: list[str]) -> int:
    router_spec, parent = argv[0], int(argv[1])
    die_with_parent(parent)
    # Ctrl-C in a terminal reaches the whole process group; the server decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    settings = read_settings(stdin.readline())
    if settings.worker_nice:
        # Never lower: anyone may raise a process's niceness, only root may lower it.
        os.nice(settings.worker_nice)
    logs.configure(settings.log_level, settings.secret_values())
    location = settings.store_location()
    lock = _lock_queue(location.path) if isinstance(location, SqliteLocation) else None
    store = make_store(
        location,
        intake_sync=settings.queue_sync,
        lease_seconds=settings.lease_seconds,
        connections=2 * settings.workers + 4,
    )
    store.open()
    relay = MetricsRelay(sys.stdout.buffer)
    pool = WorkerPool(
        store,
        load_router(router_spec),
        settings,
        relay,  # type: ignore[arg-type]
        default_github_factory(settings),
    )
    pool.start()
    relay.ready()
    signal.signal(signal.SIGTERM, lambda *_: os.close(stdin.fileno()))
    try:
        while True:
            try:
                data = os.read(stdin.fileno(), 4096)
            except OSError:
                break
            if not data:
                break
            pool.wake(sum(data))
    finally:
        pool.stop()
        relay.close()
        store.close()
        if lock is not None:
            lock.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
