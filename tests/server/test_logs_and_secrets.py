"""JSON logs carry the delivery id and never a secret or a token."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.server import logs
from bot.server.app import create_app
from bot.webhooks.router import Router
from tests.server.live import (
    BotProcess,
    deliver,
    job_state,
    live_server,
    settings_for,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec-rotating-Q7pX2v"
OLD_SECRET = "whsec-previous-9Lm3Kd"
TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
INSTALLATION_TOKEN = "ghs_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"


def pem_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text
        # Also no recognisable piece of a key (one line of its base64 body).
        for line in secret.splitlines()[1:-1]:
            assert line not in text


def test_a_handler_that_leaks_secrets_into_logs_leaks_nothing(tmp_path):
    key = pem_key()
    settings = settings_for(
        tmp_path,
        webhook_secret=f"{WEBHOOK_SECRET},{OLD_SECRET}",
        github_token=TOKEN,
        app_id=123,
        private_key=key,
        max_attempts=1,
    )
    stream = io.StringIO()
    logs.configure("DEBUG", settings.secret_values(), stream=stream)
    router = Router()

    @router.register("issue_comment")
    def careless(event, ctx) -> None:
        ctx.log.info("settings are %s", ctx.settings.model_dump())
        ctx.log.info("raw values", extra={"token": TOKEN, "key": key, "secret": WEBHOOK_SECRET})
        ctx.log.info(f"got installation token {INSTALLATION_TOKEN} (Bearer {INSTALLATION_TOKEN})")
        raise RuntimeError(f"GitHub refused token {TOKEN} with secret {OLD_SECRET}")

    app = create_app(settings, router=router, github_factory=lambda _id: None)
    comment = {
        "action": "created",
        "issue": {"number": 1},
        "comment": {"id": 1, "body": f"leak {TOKEN}"},
        "sender": {"login": "mallory"},
    }
    try:
        with live_server(app) as url, httpx.Client(base_url=url) as client:
            deliver(client, "issue_comment", comment, "leak-1", secret=WEBHOOK_SECRET)
            deliver(client, "issue_comment", comment, "forged-1", secret="not-the-secret")
            wait_for(lambda: job_state(settings.database, "leak-1") == "dead")
    finally:
        logging.getLogger().handlers.clear()
    output = stream.getvalue()
    entries = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert_no_secret(output, [WEBHOOK_SECRET, OLD_SECRET, TOKEN, INSTALLATION_TOKEN, key])
    about_the_delivery = [e for e in entries if e.get("delivery_id") == "leak-1"]
    messages = {e["msg"] for e in about_the_delivery}
    assert {"delivery queued", "raw values", "job dead-lettered"} <= messages
    assert any(e["msg"] == "delivery refused" and e["status"] == 401 for e in entries)
    assert logs.REDACTED in output


def test_mlbot_serve_logs_json_without_secrets(tmp_path):
    key_file = tmp_path / "app.pem"
    key = pem_key()
    key_file.write_text(key)
    env = {
        "MLBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MLBOT_GITHUB_TOKEN": TOKEN,
        "MLBOT_APP_ID": "42",
        "MLBOT_PRIVATE_KEY_PATH": str(key_file),
        "MLBOT_DATABASE": str(tmp_path / "q.sqlite3"),
    }
    argv = [sys.executable, "-m", "bot", "serve", "--port", "{port}"]
    server = BotProcess(argv, env, ROOT, capture=True)
    try:
        with httpx.Client(base_url=server.url) as client:
            ping = {"zen": "Design for failure.", "hook_id": 9, "hook": {"events": ["push"]}}
            assert deliver(client, "ping", ping, "ping-1", secret=WEBHOOK_SECRET).status_code == 202
            assert client.get("/readyz").json()["checks"]["credentials"] is True
            wait_for(lambda: job_state(tmp_path / "q.sqlite3", "ping-1") == "done")
    finally:
        out, err = server.stop()
    entries = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert_no_secret(out + err, [WEBHOOK_SECRET, TOKEN, key])
    assert any(e["msg"] == "mlbot bot started" for e in entries)
    ping_lines = [e for e in entries if e.get("delivery_id") == "ping-1"]
    assert {"webhook ping", "job done"} <= {e["msg"] for e in ping_lines}


def test_the_redactor_removes_token_shapes_it_was_not_told_about():
    redact = logs.Redactor()
    samples = [
        "ghp_" + "a" * 36,
        "github_pat_" + "b" * 40,
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJlLWhlcmU",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
        "Authorization: token 0123456789abcdef0123456789abcdef",
    ]
    for sample in samples:
        assert redact(f"x {sample} y").count(logs.REDACTED) == 1, sample
    assert redact("nothing secret here: issue #12") == "nothing secret here: issue #12"


def test_settings_never_print_their_secrets(tmp_path):
    settings = settings_for(tmp_path, webhook_secret=WEBHOOK_SECRET, github_token=TOKEN)
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    assert WEBHOOK_SECRET not in shown
    assert TOKEN not in shown
