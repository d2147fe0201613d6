"""Configuration from the environment, and `mlbot serve` refusing to run unsafely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import InputError
from bot.server.settings import Settings
from bot.server.store.location import PostgresLocation, SqliteLocation, parse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch):
    for name in [
        "WEBHOOK_SECRET", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "GITHUB_TOKEN",
        "GITHUB_URL", "DATABASE", "WORKERS",
    ]:  # fmt: skip
        monkeypatch.delenv(f"MLBOT_{name}", raising=False)
    return monkeypatch


def test_settings_come_from_mlbot_variables(env, tmp_path):
    env.setenv("MLBOT_WEBHOOK_SECRET", " new ,old,")
    env.setenv("MLBOT_GITHUB_URL", "https://ghe.example.com/api/v3/")
    env.setenv("MLBOT_DATABASE", str(tmp_path / "q.db"))
    env.setenv("MLBOT_WORKERS", "3")
    settings = Settings()
    assert settings.webhook_secrets() == [b"new", b"old"]
    assert settings.github_url == "https://ghe.example.com/api/v3"
    assert settings.store_location() == SqliteLocation(tmp_path / "q.db")
    assert settings.workers == 3


def test_credentials_are_an_app_with_its_key_or_a_token(env, tmp_path):
    assert not Settings().credentials_loaded()
    assert Settings(github_token="ghs_x").credentials_loaded()
    assert not Settings(app_id=1).credentials_loaded()
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    assert Settings(app_id=1, private_key_path=key).credentials_loaded()
    assert not Settings(app_id=1, private_key_path=tmp_path / "missing.pem").credentials_loaded()


def test_a_one_line_private_key_gets_its_newlines_back(env):
    env.setenv("MLBOT_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----")
    assert Settings().private_key_pem() == (
        "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"
    )


def test_no_webhook_secret_is_refused(env):
    with pytest.raises(InputError, match="MLBOT_WEBHOOK_SECRET"):
        Settings().require_webhook_secret()
    with pytest.raises(InputError):
        Settings(webhook_secret=" , ").require_webhook_secret()


def run_serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MLBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_mlbot_serve_refuses_to_start_without_a_webhook_secret(tmp_path):
    result = run_serve({"MLBOT_DATABASE": str(tmp_path / "q.db")}, "--port", "1")
    assert result.returncode == 2
    assert "MLBOT_WEBHOOK_SECRET is not set" in result.stderr
    assert not (tmp_path / "q.db").exists()


def test_mlbot_serve_names_an_invalid_variable(tmp_path):
    result = run_serve({"MLBOT_WEBHOOK_SECRET": "s", "MLBOT_WORKERS": "many"})
    assert result.returncode == 2
    assert "MLBOT_WORKERS is invalid" in result.stderr


@pytest.mark.parametrize(
    "database, says",
    [
        ("mysql://u:pw@db/mlbot", "uses mysql://, which mlbot cannot store its queue in"),
        ("postgresql:mlbot", "must be postgresql://host/db"),
        ("postgresql:///mlbot", "names no host"),
        ("sqlite://relative.db", "must be sqlite:///path/to/file"),
        ("  ", "MLBOT_DATABASE is empty"),
    ],
)
def test_mlbot_serve_refuses_a_database_it_cannot_use_and_creates_nothing(tmp_path, database, says):
    env = {"MLBOT_WEBHOOK_SECRET": "s", "MLBOT_DATABASE": database}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "1"],
        cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("MLBOT_")}, **env,
             "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert says in result.stderr
    assert "pw" not in result.stderr.replace(says, "")
    assert list(tmp_path.iterdir()) == []  # no folder named after the URL


def test_a_postgresql_url_is_the_networked_store_and_its_password_stays_out_of_logs():
    settings = Settings(
        _env_file=None,
        webhook_secret="s",
        database="postgresql://bot:p%40ss-w0rd@db.internal:5432/mlbot?sslmode=require",
    )
    where = settings.store_location()
    assert isinstance(where, PostgresLocation)
    assert where.shown() == "postgresql://bot:***@db.internal:5432/mlbot?sslmode=require"
    assert "p%40ss-w0rd" in settings.secret_values()  # scrubbed from every log line
    query = parse("postgres://db.internal/mlbot?user=bot&password=hunter2")
    assert "hunter2" not in query.shown() and query.secrets() == ["hunter2"]
    assert parse("sqlite:////data/q.db") == SqliteLocation(Path("/data/q.db"))


def test_serve_is_listed_in_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0
    assert "--port" in out.stdout


def test_the_webhook_path_does_not_import_heavy_ml_libraries(tmp_path):
    """Start the app as `mlbot serve` does, handle a delivery, then list what was imported."""
    code = f"""
import json, sys, httpx
from bot.server.app import create_app
from tests.server.live import deliver, job_state, live_server, settings_for, wait_for
settings = settings_for(__import__("pathlib").Path({str(tmp_path)!r}))
with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as client:
    assert deliver(client, "ping", {{"zen": "z"}}, "p-1").status_code == 202
    wait_for(lambda: job_state(settings.database, "p-1") == "done")
print(json.dumps(sorted(sys.modules)))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    heavy = {"mlflow", "evidently", "dvc", "sklearn", "pandas", "psycopg"} & loaded
    assert heavy == set()
