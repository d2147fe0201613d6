"""Fuzz POST /webhook over real HTTP: every defective request gets a 4xx, stores nothing, never 5xx.

Each generated request carries at least one defect (signature, content type,
headers, size or body) and is otherwise as GitHub would send it, so the
defect under test is the only reason to refuse it.
"""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.server.app import create_app
from bot.webhooks import payloads
from bot.webhooks.router import Router
from bot.webhooks.signature import sign
from tests.server.live import SECRET, live_server, queue_counts, settings_for

LIMIT = 4096
EVENT_NAME = re.compile(r"[a-z][a-z_]*")
DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
EVENTS_WITH_REQUIRED_FIELDS = [
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "workflow_run",
    "check_suite",
    "installation",
    "push",
]
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    router = Router()
    for event in [*EVENTS_WITH_REQUIRED_FIELDS, "ping"]:
        router.register(event)(lambda event, ctx: None)
    tmp = tmp_path_factory.mktemp("fuzz")
    app_settings = settings_for(tmp, max_body_bytes=LIMIT)
    app = create_app(app_settings, router=router, github_factory=lambda _id: None)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, app_settings.database


def github_headers(body: bytes, event: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, SECRET),
    }


@st.composite
def bad_signature(draw):
    body = draw(st.binary(max_size=512))
    headers = github_headers(body, draw(st.sampled_from(EVENTS_WITH_REQUIRED_FIELDS)))
    kind = draw(st.sampled_from(["missing", "other-secret", "sha1", "garbage", "truncated"]))
    good = headers.pop("X-Hub-Signature-256")
    if kind == "other-secret":
        headers["X-Hub-Signature-256"] = sign(body, draw(HEADER_TEXT.filter(lambda s: s != SECRET)))
    elif kind == "sha1":
        headers["X-Hub-Signature"] = "sha1=" + draw(
            st.text("0123456789abcdef", min_size=40, max_size=40)
        )
    elif kind == "garbage":
        headers["X-Hub-Signature-256"] = draw(HEADER_TEXT)
    elif kind == "truncated":
        headers["X-Hub-Signature-256"] = good[: draw(st.integers(0, len(good) - 1))]
    return body, headers


@st.composite
def bad_content_type(draw):
    body = json.dumps({"zen": "x"}).encode()
    headers = github_headers(body, "ping")
    content_type = draw(
        HEADER_TEXT.filter(lambda s: s.split(";")[0].strip().lower() != "application/json")
    )
    if content_type:
        headers["Content-Type"] = content_type
    else:
        del headers["Content-Type"]
    return body, headers


@st.composite
def bad_headers(draw):
    body = json.dumps({"zen": "x"}).encode()
    headers = github_headers(body, "ping")
    which = draw(st.sampled_from(["X-GitHub-Event", "X-GitHub-Delivery"]))
    value = draw(HEADER_TEXT).strip()  # HTTP drops surrounding whitespace anyway
    # GitHub's event names are lower_snake_case and its delivery ids GUIDs: keep
    # only values GitHub would never send.
    if which == "X-GitHub-Event":
        assume(not EVENT_NAME.fullmatch(value))
    else:
        assume(not DELIVERY_ID.fullmatch(value))
    if value:
        headers[which] = value
    else:
        del headers[which]
    return body, headers


@st.composite
def too_large(draw):
    body = draw(st.binary(min_size=LIMIT + 1, max_size=LIMIT * 4))
    return body, github_headers(body, draw(st.sampled_from(EVENTS_WITH_REQUIRED_FIELDS)))


def _model_rejects(event: str, body: bytes) -> bool:
    try:
        payloads.parse(event, body)
    except ValidationError:
        return True
    return False


@st.composite
def bad_body(draw):
    event = draw(st.sampled_from(EVENTS_WITH_REQUIRED_FIELDS))
    kind = draw(st.sampled_from(["bytes", "text", "not-object", "wrong-shape"]))
    if kind == "bytes":
        body = draw(st.binary(max_size=LIMIT))
    elif kind == "text":
        body = draw(st.text(max_size=200)).encode()
    elif kind == "not-object":
        body = json.dumps(draw(JSON_VALUES.filter(lambda v: not isinstance(v, dict)))).encode()
    else:
        body = json.dumps(draw(st.dictionaries(st.text(max_size=12), JSON_VALUES))).encode()
    assume(len(body) <= LIMIT and _model_rejects(event, body))
    return body, github_headers(body, event)


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    request=st.one_of(bad_signature(), bad_content_type(), bad_headers(), too_large(), bad_body())
)
def test_defective_deliveries_get_4xx_and_store_nothing(endpoint, request):
    client, database = endpoint
    body, headers = request
    # HTTP clients refuse, and servers strip, whitespace around header values.
    headers = {k: v.strip() for k, v in headers.items() if v.strip()}
    response = client.post("/webhook", content=body, headers=headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert sum(queue_counts(database).values()) == 0
