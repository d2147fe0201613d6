"""Real git repositories for tests: a model repository with mlbot set up."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.cli import main

CONFIG = """\
schema: mlbot/v1
policy: {policy}
overrides: {overrides}
models:
  churn:
    path: models/churn
    metrics: metrics.json
  fraud:
    path: models/fraud
"""


def git(root: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    proc = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@dataclass
class ModelRepo:
    root: Path
    capsys: object

    def mlbot(self, *args: str, repo: bool = True) -> Result:
        self.capsys.readouterr()
        code = main([*args, "--repo", str(self.root)] if repo else list(args))
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def ok(self, *args: str) -> Result:
        res = self.mlbot(*args)
        assert res.code == 0, f"mlbot {' '.join(args)} exited {res.code}: {res.err}{res.out}"
        return res

    def artifact(self, content: str, name: str = "model.bin") -> Path:
        path = self.root / name
        path.write_text(content)
        return path

    def register(self, model: str = "churn", content: str | None = None, **metrics) -> str:
        art = self.artifact(content or f"weights {os.urandom(4).hex()}")
        mfile = self.root / "metrics.json"
        mfile.write_text(json.dumps(metrics or {"accuracy": 0.9}))
        res = self.ok(
            "registry", "register", model, "--artifact", str(art), "--metrics", str(mfile), "--json"
        )
        return res.json()["version"]

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()


def make_repo(root: Path, capsys, policy: str = "default", overrides: str = "{}") -> ModelRepo:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Alice Example")
    git(root, "config", "user.email", "alice@example.com")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "config", "tag.gpgsign", "false")
    (root / ".github").mkdir()
    (root / ".github" / "mlbot.yml").write_text(CONFIG.format(policy=policy, overrides=overrides))
    (root / "README.md").write_text("a model repository\n")
    (root / ".gitignore").write_text("model.bin\nmetrics.json\n*.json\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return ModelRepo(root, capsys)
