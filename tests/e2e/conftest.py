"""The end-to-end harness: a simulated GitHub, the real bot on loopback, a model repository.

`world` gives one fresh setup per test:

- a `GitHubSimulator` (OpenAPI validation on, asserted clean at teardown) that sends
  signed webhooks to the bot's real `POST /webhook`;
- the real `create_app` under uvicorn, authenticated as a GitHub App installed on `acme`
  (JWT -> installation token against the simulator), with its SQLite queue and workers;
- `acme/models`, a model repository holding `.github/CODEOWNERS` (owners of `registry/`:
  alice, bob and the team `acme/ml-leads` = dave), `.github/mlbot.yml` (models `cancer` and
  `churn`; production needs one code-owner approval, the `mlbot` check and an accuracy
  gate) and a registry written by the real registry code: cancer v1.0.0 and v1.1.0 have been
  in production (v1.1.0 live), v1.2.0 is registered and live in staging; churn v0.1.0 is
  registered.

People: alice, bob (code owners, write), dave (code owner through the team, write),
carol (write, not an owner), erin (write, not an owner), mallory (read only).

Everything a test asserts is what a user would see: comments and reactions in the
simulator, commits and tags in the simulator's git repository.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import Faults, GitHubSimulator
from bot.simulator.pytest_plugin import github_sim, make_github_sim  # noqa: F401
from bot.simulator.state import App
from tests.server.live import live_server, queue_counts

SECRET = "e2e-webhook-secret"
REPO = "acme/models"
BOT = "mlbot[bot]"
OWNERS = ("alice", "bob")
TEAM_OWNER = "dave"
WRITERS = ("carol", "erin")
READER = "mallory"

CODEOWNERS = """\
# Everything: the platform lead.
*            @alice
# The registry: who approves promotions and rollbacks.
/registry/   @alice @bob @acme/ml-leads
"""

MLBOT_YML = """\
schema: mlbot/v1
policy: default
overrides:
  promotion:
    production:
      required_checks: [mlbot]
models:
  cancer:
    description: Breast-cancer biopsy classifier.
    path: models/cancer
    target: target
    workflow: mlbot.yml
    policy:
      metrics:
        accuracy: {min: 0.9, max_regression: 0.02}
  churn:
    description: Customer churn.
    path: models/churn
    target: churned
    workflow: mlbot.yml
"""

# The models' workflow as the default branch defines it: only its runs are evidence.
WORKFLOW = """\
name: mlbot
on: pull_request
jobs:
  evaluate:
    uses: acme/mlbot/.github/workflows/model.yml@v1
"""

FILES: dict[str, str] = {
    "README.md": "# models\n",
    ".github/workflows/mlbot.yml": WORKFLOW,
    ".github/CODEOWNERS": CODEOWNERS,
    ".github/mlbot.yml": MLBOT_YML,
    "models/cancer/train.py": "print('train cancer')\n",
    "models/churn/train.py": "print('train churn')\n",
}

GOOD_METRICS = {"accuracy": 0.955, "roc_auc": 0.99}


def evaluation(
    model: str = "cancer",
    version: str | None = "v1.2.0",
    metrics: dict[str, float] | None = None,
    production: tuple[str, dict[str, float]] | None = ("v1.1.0", {"accuracy": 0.95}),
) -> dict[str, Any]:
    """An evaluation.json document (the contract `mlbot evaluate` writes)."""
    cand_metrics = dict(metrics or GOOD_METRICS)
    candidate: dict[str, Any] = {"metrics": cand_metrics, "slices": {}, "artifact_sha256": "a" * 64}
    if version:
        candidate["version"] = version
    prod = None
    if production:
        prod = {"version": production[0], "metrics": production[1], "slices": {}}
    return {
        "model": model,
        "candidate": candidate,
        "production": prod,
        "diff": {},
        "verdict": {"passed": True, "checks": []},
        "policy": "default",
        "holdout": {"path": "data/holdout.csv", "rows": 100, "digest": "b" * 64},
        "lineage": {},
        "params": {},
    }


@dataclass
class World:
    sim: GitHubSimulator
    app: App
    bot_url: str
    database: Path
    repo: str = REPO
    _seen_deliveries: int = field(default=0, repr=False)

    # -- acting as people ---------------------------------------------------------------
    def open_pr(
        self,
        *,
        user: str = "carol",
        branch: str = "improve-cancer",
        files: dict[str, str | None] | None = None,
        title: str = "Improve the cancer model",
        model: str = "cancer",
        evaluation_doc: dict[str, Any] | None = None,
        checks: dict[str, str] | None = None,
        run_workflow: bool = True,
        base: str | None = None,
    ) -> int:
        """Push a branch, open a PR, and (by default) report CI: checks and the evaluation."""
        head = self.sim.push(
            self.repo,
            branch,
            files or {f"models/{model}/train.py": f"print('better {model}')\n"},
            message=title,
            author=user,
        )
        number = self.sim.open_pr(self.repo, branch, user=user, title=title, base=base)
        if run_workflow:
            self.ci(number, head, model=model, evaluation_doc=evaluation_doc, checks=checks)
        return number

    def ci(
        self,
        number: int,
        head: str | None = None,
        *,
        model: str = "cancer",
        evaluation_doc: dict[str, Any] | None = None,
        checks: dict[str, str] | None = None,
    ) -> int:
        """The model workflow's run on the PR head: check runs, then evaluation.json."""
        head = head or self.head(number)
        for name, conclusion in (checks or {"mlbot": "success"}).items():
            self.sim.create_check_run(self.repo, head, name, conclusion=conclusion)
        doc = evaluation_doc or evaluation(model)
        pull = self.sim.issue(self.repo, number).pull
        assert pull is not None
        return self.sim.create_workflow_run(
            self.repo,
            name="mlbot",
            path=".github/workflows/mlbot.yml",
            head_sha=head,
            head_branch=pull.head_ref,
            pull_numbers=[number],
            artifacts={f"mlbot-evaluation-{model}": {"evaluation.json": json.dumps(doc)}},
        )

    def push(self, number: int, files: dict[str, str | None], *, user: str = "carol") -> str:
        pull = self.sim.issue(self.repo, number).pull
        assert pull is not None
        return self.sim.push(self.repo, pull.head_ref, files, message="More work", author=user)

    def head(self, number: int) -> str:
        pull = self.sim.issue(self.repo, number).pull
        assert pull is not None
        return pull.head_sha

    def comment(self, number: int, body: str, *, user: str = "carol") -> int:
        return self.sim.comment(self.repo, number, body, user=user)

    def review(self, number: int, *, user: str, state: str = "APPROVED", **kw: Any) -> int:
        return self.sim.submit_review(self.repo, number, user=user, state=state, **kw)

    def issue(self, title: str = "Incident: cancer model misbehaves", *, user: str = "bob") -> int:
        return self.sim.create_issue(
            self.repo, title, "Production errors since the deploy.", user=user
        )

    # -- waiting -------------------------------------------------------------------------
    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every webhook so far was delivered and the bot's queue is drained.

        The bot's own comments cause more webhooks, so repeat until nothing new happens.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.sim.wait_for_webhooks(timeout)
            while True:
                counts = queue_counts(self.database)
                if counts.get("queued", 0) == 0 and counts.get("running", 0) == 0:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"the bot's queue did not drain: {counts}")
                time.sleep(0.02)
            delivered = len(self.sim.webhooks.deliveries)
            if delivered == self._seen_deliveries:
                return
            self._seen_deliveries = delivered
            if time.monotonic() > deadline:
                raise AssertionError("webhooks kept coming")

    # -- what people see -----------------------------------------------------------------
    def bot_comments(self, number: int) -> list[str]:
        return [c.body for c in self.sim.comments_on(self.repo, number) if c.user == BOT]

    def command_replies(self, number: int) -> list[str]:
        """The bot's answers to commands (not its metric comments), oldest first."""
        marks = ("<!-- mlbot:reply ", "<!-- mlbot:pending ", "<!-- mlbot:done ")
        return [b for b in self.bot_comments(number) if b.startswith(marks)]

    def last_reply(self, number: int) -> str:
        replies = self.command_replies(number)
        assert replies, f"the bot did not answer a command on #{number}"
        return replies[-1]

    def reactions(self, comment_id: int) -> list[tuple[str, str]]:
        return [(r.user, r.content) for r in self.sim.comments[comment_id].reactions]

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.git_dir), *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    @property
    def git_dir(self) -> Path:
        owner, name = self.repo.split("/")
        return self.sim.root / "repos" / owner / f"{name}.git"

    def main_sha(self) -> str:
        return self.git("rev-parse", "refs/heads/main").strip()

    def registry_log(self) -> list[str]:
        """Full messages of registry commits on main, newest first."""
        out = self.git("log", "--format=%B%x1e", "main", "--", "registry/")
        return [m.strip() for m in out.split("\x1e") if m.strip()]

    def tags(self, model: str = "cancer") -> list[str]:
        return sorted(t for t in self.git("tag", "--list").split() if t.startswith(model))

    def stages(self, model: str = "cancer") -> dict[str, Any]:
        import yaml

        return yaml.safe_load(self.git("show", f"main:registry/{model}/stages.yaml"))

    def live(self, model: str = "cancer") -> dict[str, str]:
        return {k: v["version"] for k, v in self.stages(model)["stages"].items()}

    def calls(self, since: int = 0) -> list[str]:
        """Operation ids of the API calls made (by anyone) since request number `since`."""
        return [r.operation_id or r.path for r in self.sim.requests[since:]]


def seed_registry(git_dir: Path) -> None:
    """Register and promote versions with the real registry code, on the simulator's repo."""
    import datetime as dt

    from bot.config.load import parse_config, policy_for
    from bot.registry import audit, schema
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity

    config = parse_config(MLBOT_YML)
    store = GitStore(git_dir, branch="main")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    ticks = iter(range(1000))

    def clock() -> dt.datetime:
        return start + dt.timedelta(hours=next(ticks))

    registry = Registry(
        store,
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@users.noreply.example"),
        clock=clock,
    )
    who = audit.Audit(requested_by="alice")

    def register(model: str, version: str, accuracy: float) -> None:
        registry.register(
            model,
            version=version,
            artifact=schema.Artifact(
                uri=f"s3://models/{model}/{version}/model.pkl", sha256="c" * 64, size=1024
            ),
            metrics={"accuracy": accuracy, "roc_auc": 0.98},
            audit_info=who,
        )

    register("cancer", "v1.0.0", 0.93)
    registry.promote("cancer", "v1.0.0", "staging", audit_info=who)
    registry.promote("cancer", "v1.0.0", "production", audit_info=who)
    register("cancer", "v1.1.0", 0.95)
    registry.promote("cancer", "v1.1.0", "staging", audit_info=who)
    registry.promote("cancer", "v1.1.0", "production", audit_info=who)
    register("cancer", "v1.2.0", 0.955)
    registry.promote("cancer", "v1.2.0", "staging", audit_info=who)
    register("churn", "v0.1.0", 0.81)


def build_world(
    make_sim: Callable[..., GitHubSimulator],
    tmp_path: Path,
    template: Path,
    *,
    faults: Faults | None = None,
    workers: int = 2,
    router: Any = None,
    **settings_overrides: Any,
) -> Iterator[World]:
    """`router`: the bot's handlers (default: all of them), e.g. to measure one feature's cost."""
    from bot.server.app import create_app
    from bot.server.settings import Settings

    sim = make_sim(webhook_secret=SECRET, faults=faults)
    app = sim.create_app("mlbot")
    for login in (*OWNERS, TEAM_OWNER, *WRITERS, READER):
        sim.user(login)
    sim.create_org("acme")
    sim.create_team("acme", "ml-leads", [TEAM_OWNER])
    repo = sim.create_repo(REPO, dict(FILES))
    # The seeded registry is written once per session, then fetched into each test's repo.
    subprocess.run(
        [
            "git",
            "fetch",
            "--quiet",
            str(template),
            "+refs/heads/main:refs/heads/main",
            "+refs/tags/*:refs/tags/*",
        ],
        cwd=repo.store.path,
        check=True,
        capture_output=True,
    )
    for login in (*OWNERS, TEAM_OWNER, *WRITERS):
        sim.add_collaborator(REPO, login, "write")
    sim.add_collaborator(REPO, READER, "read")
    sim.install(app, "acme")

    values: dict[str, Any] = {
        "webhook_secret": SECRET,
        "database": tmp_path / "bot-queue.sqlite3",
        "workers": workers,
        "max_attempts": 5,
        "retry_base_seconds": 0.05,
        "retry_max_seconds": 0.5,
        "app_id": app.id,
        "private_key": app.private_key_pem,
        "github_url": sim.url,
        "bot_login": BOT,
        "queue_sync": "normal",
    }
    values.update(settings_overrides)
    settings = Settings(_env_file=None, **values)
    with live_server(create_app(settings, router)) as url:
        sim.set_webhook(f"{url}/webhook", SECRET)
        world = World(sim, app, url, settings.database)
        yield world
        world.settle()


@pytest.fixture(scope="session")
def registry_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare repository holding FILES and the seeded registry, built once per session."""
    return make_registry_template(tmp_path_factory.mktemp("e2e-template") / "models.git")


def make_registry_template(path: Path) -> Path:
    from bot.simulator.bare_repo import BareRepo, Person

    store = BareRepo(path)
    store.commit_files(
        dict(FILES),
        "Initial commit",
        branch="main",
        author=Person("acme", "acme@users.noreply.example", 1767225600),
    )
    seed_registry(path)
    return path


@pytest.fixture
def world(
    make_github_sim: Callable[..., GitHubSimulator],  # noqa: F811 - the plugin's fixture
    tmp_path: Path,
    registry_template: Path,
) -> Iterator[World]:
    yield from build_world(make_github_sim, tmp_path, registry_template)


@pytest.fixture
def make_world(
    make_github_sim: Callable[..., GitHubSimulator],  # noqa: F811 - the plugin's fixture
    tmp_path: Path,
    registry_template: Path,
) -> Iterator[Callable[..., World]]:
    """A world with other faults or settings: `make_world(faults=Faults(rate=0.1), workers=4)`."""
    started: list[Iterator[World]] = []

    def make(**kwargs: Any) -> World:
        gen = build_world(make_github_sim, tmp_path, registry_template, **kwargs)
        started.append(gen)
        return next(gen)

    yield make
    for gen in started:
        for _ in gen:
            pass
