"""Several `mlbot serve` replicas against the GitHub simulator, as an organisation runs them.

- `models_world`: the simulator with an App installed on `acme`, and `acme/models` holding
  three models whose registry was written by the real registry code (each: v1.0.0 then
  v1.1.0 in production, v1.2.0 in staging), an incident issue per model, code owners
  alice and bob.
- `serve`: one replica, started as a user starts it: `mlbot serve` (`python -m bot serve`)
  in a process of its own, configured by `MLBOT_*` variables only (PostgreSQL URL, App id
  and key, the simulator's URL). Its JSON log goes to a file beside the test.
- `Balancer`: what sits in front of the replicas (a Kubernetes Service, a load balancer):
  GitHub's deliveries reach it and it passes each to a replica, round robin over those
  that answer. It can also pass every delivery to a second replica at the same moment,
  as a retrying proxy would: the same delivery racing on two replicas.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from bot.simulator import GitHubSimulator
from bot.simulator.state import App
from tests.server.live import BotProcess, queue_counts

ROOT = Path(__file__).resolve().parents[2]
SECRET = "replicas-webhook-secret"
REPO = "acme/models"
BOT = "mlbot[bot]"
MODELS = ("cancer", "churn", "fraud")
OWNERS = ("alice", "bob")

MLBOT_YML = "schema: mlbot/v1\npolicy: default\nmodels:\n" + "".join(
    f"  {m}:\n    description: The {m} model.\n    path: models/{m}\n    target: y\n"
    for m in MODELS
)
FILES: dict[str, str] = {
    "README.md": "# models\n",
    ".github/CODEOWNERS": "*  @alice\n/registry/  @alice @bob\n",
    ".github/mlbot.yml": MLBOT_YML,
    **{f"models/{m}/train.py": f"print('train {m}')\n" for m in MODELS},
}
# The marker every command reply starts with: `<comment id>.<line>` names the command.
REPLY = re.compile(r"<!-- mlbot:(?P<kind>reply|pending|done) (?P<key>\S+) part (?P<part>\d+)")


@dataclass
class ModelsWorld:
    sim: GitHubSimulator
    app: App
    issues: dict[str, int]  # model -> its incident issue

    @property
    def git_dir(self) -> Path:
        return self.sim.root / "repos" / "acme" / "models.git"

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.git_dir), *args], capture_output=True, text=True, check=True
        ).stdout

    def registry_commits(self) -> list[str]:
        """Full messages of the commits on main, newest first."""
        out = self.git("log", "--format=%B%x1e", "main")
        return [m.strip() for m in out.split("\x1e") if m.strip()]

    def replies(self) -> dict[str, list[str]]:
        """Command key (comment id.line) -> the bot's replies to it (first parts), oldest first."""
        out: dict[str, list[str]] = {}
        for number in self.issues.values():
            for c in self.sim.comments_on(REPO, number):
                m = REPLY.match(c.body)
                if c.user == BOT and m and m["part"] == "1":
                    out.setdefault(m["key"], []).append(c.body)
        return out


def _seed_registry(git_dir: Path) -> None:
    """Each model: v1.0.0 and v1.1.0 were in production (v1.1.0 live), v1.2.0 in staging."""
    from bot.config.load import parse_config, policy_for
    from bot.registry import audit, schema
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity

    config = parse_config(MLBOT_YML)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    ticks = itertools.count()
    registry = Registry(
        GitStore(git_dir, branch="main"),
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@users.noreply.example"),
        clock=lambda: start + dt.timedelta(hours=next(ticks)),
    )
    who = audit.Audit(requested_by="alice")
    for model in MODELS:
        for version, stages in (
            ("v1.0.0", ("staging", "production")),
            ("v1.1.0", ("staging", "production")),
            ("v1.2.0", ("staging",)),
        ):
            registry.register(
                model,
                version=version,
                artifact=schema.Artifact(
                    uri=f"s3://models/{model}/{version}/model.pkl", sha256="c" * 64, size=1024
                ),
                metrics={"accuracy": 0.95},
                audit_info=who,
            )
            for stage in stages:
                registry.promote(model, version, stage, audit_info=who)


def models_world(sim: GitHubSimulator) -> ModelsWorld:
    app = sim.create_app("mlbot")
    for login in (*OWNERS, "carol"):
        sim.user(login)
    sim.create_org("acme")
    repo = sim.create_repo(REPO, dict(FILES))
    _seed_registry(Path(repo.store.path))
    for login in OWNERS:
        sim.add_collaborator(REPO, login, "write")
    sim.install(app, "acme")
    issues = {m: sim.create_issue(REPO, f"Incident: {m}", "Errors.", user="bob") for m in MODELS}
    return ModelsWorld(sim, app, issues)


def serve(
    world: ModelsWorld, database: str, log: Path, **settings: str | float | int
) -> BotProcess:
    """`mlbot serve` in a process of its own, configured as a user configures it."""
    env = {
        "MLBOT_WEBHOOK_SECRET": SECRET,
        "MLBOT_DATABASE": database,
        "MLBOT_APP_ID": str(world.app.id),
        "MLBOT_PRIVATE_KEY": world.app.private_key_pem,
        "MLBOT_GITHUB_URL": world.sim.url,
        "MLBOT_BOT_LOGIN": BOT,
        "MLBOT_WORKERS": "2",
        # A busy test machine: jobs at the webhooks' priority, or they crawl.
        "MLBOT_WORKER_NICE": "0",
        "MLBOT_RETRY_BASE_SECONDS": "0.2",
        "MLBOT_RETRY_MAX_SECONDS": "2",
        **{f"MLBOT_{k.upper()}": str(v) for k, v in settings.items()},
    }
    argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    # Several servers of three processes each start at once: give a busy machine time.
    return BotProcess(argv, env, ROOT, start_seconds=180, output=log)


def serve_many(
    world: ModelsWorld, database: str, logs: Path, count: int, **settings: str | float | int
) -> list[BotProcess]:
    """`count` replicas started at once (logs `replica-<n>.log` in `logs`); if one fails to
    start, the others are stopped too."""
    with ThreadPoolExecutor(count) as starting:
        futures = [
            starting.submit(serve, world, database, logs / f"replica-{n}.log", **settings)
            for n in range(count)
        ]
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        for f in futures:
            if f.exception() is None:
                f.result().stop()
        raise failed[0]
    return [f.result() for f in futures]


def stop_all(replicas: list[BotProcess]) -> None:
    for r in replicas:
        if r.proc.poll() is None:
            r.stop()


@dataclass
class Answer:
    guid: str
    replica: int
    status: int | None  # None: the replica could not be reached


@dataclass
class Balancer:
    """Passes each delivery to the next replica that answers; with `duplicates`, to the one
    after it too, at the same moment. GitHub gets the first replica's answer (the second's,
    when the first cannot be reached)."""

    replicas: list[str]
    duplicates: bool = False
    answers: list[Answer] = field(default_factory=list)
    url: str = ""
    _down: set[int] = field(default_factory=set)
    _turn: itertools.count = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, url: str) -> None:
        """A replica joins (until then, with none, GitHub gets 502 as from a load balancer
        with no healthy backend)."""
        with self._lock:
            self.replicas.append(url)

    def statuses(self, guid: str) -> list[int | None]:
        with self._lock:
            return [a.status for a in self.answers if a.guid == guid]

    def _targets(self) -> list[int]:
        with self._lock:
            up = [i for i in range(len(self.replicas)) if i not in self._down]
            n = next(self._turn)
        if not up:
            return []
        first = up[n % len(up)]
        if not self.duplicates or len(up) == 1:
            return [first]
        return [first, up[(n + 1) % len(up)]]

    def forward(self, client: httpx.Client, i: int, body: bytes, headers: dict[str, str]):
        guid = next((v for k, v in headers.items() if k.lower() == "x-github-delivery"), "")
        try:
            response = client.post(self.replicas[i] + "/webhook", content=body, headers=headers)
        except httpx.TransportError:
            with self._lock:
                self._down.add(i)  # as a Service drops an endpoint that stopped answering
                self.answers.append(Answer(guid, i, None))
            return None
        with self._lock:
            self.answers.append(Answer(guid, i, response.status_code))
        return response


@contextmanager
def balancer(replicas: list[str] | None = None, duplicates: bool = False) -> Iterator[Balancer]:
    state = Balancer(list(replicas or []), duplicates)
    client = httpx.Client(timeout=10)
    pool = ThreadPoolExecutor(8)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            sent = [pool.submit(state.forward, client, i, body, headers) for i in state._targets()]
            got = [f.result() for f in sent]
            answer = next((r for r in got if r is not None), None)
            status, data = (answer.status_code, answer.content) if answer else (502, b"{}")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        pool.shutdown()
        client.close()


def settle(sim: GitHubSimulator, database: str, timeout: float = 240.0) -> None:
    """Until every webhook so far was delivered and the queue is drained (the bot's replies
    cause more webhooks: repeat until nothing new happens)."""
    deadline = time.monotonic() + timeout
    seen = -1
    while True:
        sim.wait_for_webhooks(timeout)
        while True:
            counts = queue_counts(database)
            if counts["queued"] == 0 and counts["running"] == 0:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the queue did not drain: {counts}")
            time.sleep(0.05)
        delivered = len(sim.webhooks.deliveries)
        if delivered == seen:
            return
        seen = delivered
        if time.monotonic() > deadline:
            raise AssertionError("webhooks kept coming")
        time.sleep(0.3)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the replica's queue writer and workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry.name))
    return out
