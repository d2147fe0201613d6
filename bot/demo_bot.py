"""`make demo`, second half: the same story through `mlbot serve` and the GitHub simulator.

A local GitHub (the simulator, on loopback) holds a model repository with
CODEOWNERS, `.github/mlbot.yml` and a registry; `mlbot serve` runs as a
GitHub App in a process of its own and receives the simulator's signed
webhooks. Then people talk to it:

PR and CI → metric comment → `/promote` (waits: no approval) → an owner's
review (the promotion completes by itself) → Alertmanager's alert on
`POST /alerts` (the incident issue opens, production rolls back by the
policy's `incidents.auto_rollback`) → a `/promote` refused by the freeze →
the alert resolves → an owner closes the issue (its timeline) → `/status`.

It prints the conversation (every comment, command and reply) and the
registry history (`git log` of `registry/` and the tags) of the simulator's
repository.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = "acme/models"
BOT = "mlbot[bot]"
CODEOWNERS = "*  @alice\n/registry/  @alice @bob\n"
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
      incidents:
        auto_rollback:
          when: {severity: critical}
          live_for_at_most_hours: 24
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(git_dir: Path) -> None:
    """A registry written by the real registry code: v1.0.0 and v1.1.0 in production before."""
    from bot.config.load import parse_config, policy_for
    from bot.registry import audit, schema
    from bot.registry.git_store import GitStore
    from bot.registry.service import Registry
    from bot.registry.store import Identity

    config = parse_config(MLBOT_YML)
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=30)
    ticks = iter(range(1000))
    registry = Registry(
        GitStore(git_dir, branch="main"),
        lambda model: policy_for(config, model),
        author=Identity("alice", "alice@example.com"),
        clock=lambda: start + dt.timedelta(days=next(ticks)),
    )
    who = audit.Audit(requested_by="alice")
    for version, accuracy in (("v1.0.0", 0.93), ("v1.1.0", 0.95), ("v1.2.0", 0.958)):
        registry.register(
            "cancer",
            version=version,
            artifact=schema.Artifact(
                uri=f"s3://models/cancer/{version}/model.pkl", sha256="c" * 64, size=2048
            ),
            metrics={"accuracy": accuracy},
            audit_info=who,
        )
        registry.promote("cancer", version, "staging", audit_info=who)
        if version != "v1.2.0":
            registry.promote("cancer", version, "production", audit_info=who)


class BotDemo:
    def __init__(self, root: Path, console: Any) -> None:
        from bot.simulator import GitHubSimulator

        self.root = root
        self.console = console
        # A fresh secret per run: the simulator signs with it, the bot checks it.
        self.secret = secrets.token_hex(16)
        self.alert_token = secrets.token_hex(16)
        self.sim = GitHubSimulator(root / "github", webhook_secret=self.secret).start()
        self.app = self.sim.create_app("mlbot")
        for login in ("alice", "bob", "carol"):
            self.sim.user(login)
        self.sim.create_org("acme")
        repo = self.sim.create_repo(
            REPO,
            {
                "README.md": "# models\n",
                ".github/CODEOWNERS": CODEOWNERS,
                ".github/mlbot.yml": MLBOT_YML,
                # The models' workflow as the default branch defines it: only its runs count.
                ".github/workflows/mlbot.yml": (
                    "name: mlbot\non: pull_request\njobs:\n  evaluate:\n"
                    "    uses: acme/mlbot/.github/workflows/model.yml@v1\n"
                ),
                "models/cancer/train.py": "print('train')\n",
            },
        )
        for login in ("alice", "bob", "carol"):
            self.sim.add_collaborator(REPO, login, "write")
        self.sim.install(self.app, "acme")
        _seed(repo.store.path)
        self.database = root / "bot" / "queue.sqlite3"
        self.database.parent.mkdir(parents=True)
        self.port = _free_port()
        key = root / "bot" / "app.pem"
        key.write_text(self.app.private_key_pem)
        key.chmod(0o600)
        env = {
            **os.environ,
            "MLBOT_WEBHOOK_SECRET": self.secret,
            "MLBOT_ALERT_TOKEN": self.alert_token,
            "MLBOT_APP_ID": str(self.app.id),
            "MLBOT_PRIVATE_KEY_PATH": str(key),
            "MLBOT_GITHUB_URL": self.sim.url,
            "MLBOT_DATABASE": str(self.database),
            "MLBOT_BOT_LOGIN": BOT,
            "MLBOT_LOG_LEVEL": "WARNING",
        }
        argv = [sys.executable, "-m", "bot", "serve", "--port", str(self.port)]
        self.console.print(f"[bold]$ mlbot serve --port {self.port}[/]  (a GitHub App for {REPO})")
        self.server = subprocess.Popen(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self._wait_healthy()
        self.sim.set_webhook(f"http://127.0.0.1:{self.port}/webhook", self.secret)
        self.shown: dict[int, int] = {}

    def _wait_healthy(self) -> None:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"mlbot serve exited: {self.server.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("mlbot serve did not start")

    def close(self) -> None:
        self.server.terminate()
        try:
            self.server.wait(30)
        except subprocess.TimeoutExpired:
            self.server.kill()
        self.sim.stop()

    # -- waiting and showing -----------------------------------------------------------------
    def settle(self, timeout: float = 60.0) -> None:
        from bot.server.store import make_store

        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline:
            self.sim.wait_for_webhooks(timeout)
            store = make_store(self.database)
            store.open()
            try:
                counts = store.counts()
            finally:
                store.close()
            busy = counts.get("queued", 0) + counts.get("running", 0)
            delivered = len(self.sim.webhooks.deliveries)
            if not busy and delivered == seen:
                return
            seen = delivered
            time.sleep(0.05)
        raise RuntimeError("the bot did not finish in time")

    def show(self, number: int, title: str) -> None:
        """Print what is new in the conversation of issue or PR `number`."""

        from rich.markup import escape

        comments = self.sim.comments_on(REPO, number)
        start = self.shown.get(number, 0)
        if start == 0:
            self.console.rule(f"[bold]#{number} {title}[/]", align="left")
        for comment in comments[start:]:
            who = comment.user
            style = "cyan" if who == BOT else "yellow"
            reactions = " ".join(f"{r.content}" for r in comment.reactions)
            tail = f"  [dim]({reactions})[/]" if reactions else ""
            self.console.print(f"[bold {style}]@{escape(who)}[/]{tail}")
            self.console.print(_visible(comment.body), markup=False, highlight=False)
            self.console.print()
        self.shown[number] = len(comments)

    def say(self, text: str) -> None:
        self.console.print(f"[dim]» {text}[/]")

    # -- the story ---------------------------------------------------------------------------
    def story(self) -> None:
        sim = self.sim
        self.say("carol pushes a better model and opens a PR; CI evaluates it")
        head = sim.push(
            REPO, "better-cancer", {"models/cancer/train.py": "print('better')\n"}, author="carol"
        )
        pr = sim.open_pr(REPO, "better-cancer", user="carol", title="Better cancer model")
        sim.create_check_run(REPO, head, "mlbot", conclusion="success")
        evaluation = {
            "model": "cancer",
            "candidate": {"version": "v1.2.0", "metrics": {"accuracy": 0.958}, "slices": {}},
            "production": {"version": "v1.1.0", "metrics": {"accuracy": 0.95}, "slices": {}},
            "diff": {},
            "verdict": {"passed": True, "checks": []},
            "policy": "default",
        }
        sim.create_workflow_run(
            REPO,
            name="mlbot",
            path=".github/workflows/mlbot.yml",
            head_sha=head,
            head_branch="better-cancer",
            pull_numbers=[pr],
            artifacts={"mlbot-evaluation-cancer": {"evaluation.json": json.dumps(evaluation)}},
        )
        self.settle()
        self.say("carol asks for production before anyone approved")
        sim.comment(REPO, pr, "/promote", user="carol")
        self.settle()
        self.say("bob, a code owner, approves the PR")
        sim.submit_review(REPO, pr, user="bob", state="APPROVED")
        self.settle()
        self.show(pr, "Better cancer model")

        self.say("Alertmanager: the error rate of cancer in production fires (POST /alerts)")
        alert = {
            "status": "firing",
            "labels": {
                "alertname": "CancerErrorRateHigh",
                "severity": "critical",
                "mlbot_repository": REPO,
                "mlbot_model": "cancer",
            },
            "annotations": {"summary": "5xx share of /predict above 5%"},
            "startsAt": dt.datetime.now(dt.timezone.utc).isoformat(),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=error_rate",
            "fingerprint": "1a30ba71cca2921f",
        }
        self.alert(alert)
        self.settle()
        issue = max(i.number for i in sim.issues(REPO) if "mlbot:incident" in i.labels)
        self.say("carol tries to promote v1.2.0 again while the incident is open")
        sim.comment(REPO, issue, "/promote cancer v1.2.0 to production", user="carol")
        self.settle()
        self.say("the alert resolves; alice closes the incident")
        self.alert({**alert, "status": "resolved", "endsAt": alert["startsAt"]})
        self.settle()
        sim.set_issue_state(REPO, issue, "closed", user="alice")
        self.settle()
        sim.comment(REPO, issue, "/status cancer", user="carol")
        self.settle()
        self.show(issue, "Incident: cancer in production")

    def alert(self, alert: dict[str, Any]) -> None:
        """Send one alert as Alertmanager's webhook receiver does (payload version 4)."""
        import httpx

        note = {
            "version": "4",
            "groupKey": '{}:{alertname="CancerErrorRateHigh"}',
            "truncatedAlerts": 0,
            "status": alert["status"],
            "receiver": "mlbot",
            "groupLabels": {"alertname": "CancerErrorRateHigh"},
            "commonLabels": alert["labels"],
            "commonAnnotations": alert["annotations"],
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [alert],
        }
        answer = httpx.post(
            f"http://127.0.0.1:{self.port}/alerts",
            json=note,
            headers={"Authorization": f"Bearer {self.alert_token}"},
            timeout=30,
        )
        answer.raise_for_status()

    def history(self) -> None:
        git_dir = self.sim.repo(REPO).store.path
        self.console.rule(
            "[bold]registry history (the simulator's git repository)[/]", align="left"
        )
        log = subprocess.run(
            [
                "git",
                "-C",
                str(git_dir),
                "log",
                "--format=%h %s%n%(trailers:only,unfold)",
                "main",
                "--",
                "registry/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        self.console.print(log.strip(), markup=False, highlight=False)
        tags = subprocess.run(
            ["git", "-C", str(git_dir), "tag", "--list", "cancer*", "--sort=creatordate"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        self.console.print(f"\ntags: {' '.join(tags)}", markup=False, highlight=False)
        calls = len([r for r in self.sim.requests if r.login == BOT])
        self.console.print(f"\nGitHub API requests the bot sent: {calls}", markup=False)


def _visible(body: str) -> str:
    """A comment as a reader sees it: hidden markers dropped, long tables cut short."""
    import re

    text = re.sub(r"<!--.*?-->\n?", "", body, flags=re.S).strip()
    lines = text.splitlines()
    return "\n".join(lines[:40] + (["…"] if len(lines) > 40 else []))


def run(console: Any | None = None, root: Path | None = None) -> float:
    """The bot half of the demo; returns its duration in seconds."""
    if console is None:
        from rich.console import Console

        console = Console(highlight=False)
    started = time.monotonic()
    root = root or Path(tempfile.mkdtemp(prefix="mlbot-demo-bot-"))
    console.rule(
        "[bold cyan]the same story through mlbot serve and a local GitHub[/]", align="left"
    )
    demo = BotDemo(root, console)
    try:
        demo.story()
        demo.history()
    finally:
        demo.close()
    elapsed = time.monotonic() - started
    console.rule(f"[bold green]bot demo done in {elapsed:.0f}s[/]  [dim]{root}[/]", align="left")
    return elapsed


if __name__ == "__main__":
    run()
