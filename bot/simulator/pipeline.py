"""The request pipeline: faults, routing, validation, authentication, dispatch, headers.

`serve` takes one raw HTTP request and returns (status, headers, body), or None
for an injected timeout. Handlers live in `bot.simulator.rest`, keyed by
GitHub's operationId.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
from typing import TYPE_CHECKING

from bot.simulator.auth import authenticate
from bot.simulator.bare_repo import GitDataError
from bot.simulator.budget import admit, charge, rate_limit_headers
from bot.simulator.conditional import not_modified, tag
from bot.simulator.permissions import authorize
from bot.simulator.request import (
    ApiError,
    LoggedRequest,
    RequestContext,
    Response,
    ValidationFailure,
)
from bot.simulator.rest import HANDLERS
from bot.simulator.validation import validate_request, validate_response

if TYPE_CHECKING:
    from bot.simulator.simulator import GitHubSimulator

SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


def serve(
    sim: GitHubSimulator, method: str, raw_path: str, headers: dict[str, str], raw: bytes
) -> tuple[int, dict[str, str], bytes] | None:
    started = time.monotonic()
    parsed = urllib.parse.urlsplit(raw_path)
    path = urllib.parse.unquote(parsed.path)
    entry = LoggedRequest(method, path, parsed.query, None, None, 0.0, None)
    sim.requests.append(entry)
    try:
        if path.startswith("/_sim/"):
            response = _serve_blob(sim, path)
        else:
            sim.faults.wait_if_held(method, path)
            fault = sim.faults.draw(path)
            entry.fault = fault
            if sim.faults.latency_per_call:
                time.sleep(sim.faults.latency_per_call)
            if fault == "latency":
                time.sleep(sim.faults.latency)
            elif fault == "timeout":
                if sim.faults.timeout_after_action:
                    with contextlib.suppress(ApiError):
                        _serve_api(sim, method, path, parsed.query, headers, raw, entry)
                time.sleep(sim.faults.timeout_delay)
                return None
            elif fault == "error":
                response = Response(502, {"message": "Server Error", "documentation_url": ""})
                return _finish(sim, entry, response, started)
            elif fault in ("rate_limit", "too_many_requests"):
                response = Response(
                    403 if fault == "rate_limit" else 429,
                    {"message": SECONDARY_RATE_LIMIT, "documentation_url": ""},
                    {"Retry-After": str(sim.faults.retry_after)},
                )
                return _finish(sim, entry, response, started)
            response = _serve_api(sim, method, path, parsed.query, headers, raw, entry)
    except ApiError as exc:
        response = Response(exc.status, exc.body())
    return _finish(sim, entry, response, started)


def _finish(
    sim: GitHubSimulator, entry: LoggedRequest, response: Response, started: float
) -> tuple[int, dict[str, str], bytes]:
    entry.status = response.status
    entry.duration = time.monotonic() - started
    with sim.lock:
        charge(sim, entry)
        limits = rate_limit_headers(sim)
    headers = {
        **limits,
        "X-GitHub-Media-Type": "github.v3",
        "X-GitHub-Request-Id": f"SIM:{id(entry):X}:{len(sim.requests)}",
        **response.headers,
    }
    if response.raw is not None:
        body = response.raw
    elif response.body is None:
        body = b""
    else:
        body = json.dumps(response.body).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    return response.status, headers, body


def _serve_blob(sim: GitHubSimulator, path: str) -> Response:
    """Artifact downloads, behind the unguessable URL `download-artifact` redirects to."""
    parts = path.split("/")  # /_sim/artifacts/{id}/{key}.zip
    if len(parts) == 5 and parts[2] == "artifacts":
        art = sim.artifacts.get(int(parts[3])) if parts[3].isdigit() else None
        if art and sim._download_keys.get(art.id) == parts[4].removesuffix(".zip"):
            return Response(200, raw=art.data, headers={"Content-Type": "application/zip"})
    raise ApiError(404, "Not Found")


def _serve_api(
    sim: GitHubSimulator,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    raw: bytes,
    entry: LoggedRequest,
) -> Response:
    match = sim.spec.match(method, path)
    if match is None:
        sim.validation_failures.append(
            ValidationFailure("route", method, path, ["no such operation in GitHub's REST API"])
        )
        raise ApiError(404, "Not Found")
    operation_id = match.operation.operation_id
    entry.operation_id = operation_id
    valid = validate_request(
        sim.spec, match, method, path, query_string, raw, sim.validation_failures
    )

    login, token, app = authenticate(sim, operation_id, headers)
    entry.login = login or (app.slug if app else None)
    entry.installation_id = token.installation_id if token else None
    with sim.lock:
        admit(sim, entry)
    url = f"{sim.url}{path}" + (f"?{query_string}" if query_string else "")
    ctx = RequestContext(
        sim, method, path, valid.params, valid.query, valid.body, login, token, app, url, headers
    )

    with sim.lock:
        authorize(ctx, operation_id)
    handler = HANDLERS.get(operation_id)
    if handler is None:
        sim.validation_failures.append(
            ValidationFailure(
                "unimplemented",
                method,
                path,
                [f"{operation_id} is valid on GitHub; the simulator does not serve it"],
            )
        )
        raise ApiError(501, f"{operation_id} is not implemented by the simulator")
    try:
        with sim.lock:
            response = handler(ctx)
    except ApiError as exc:
        response = Response(exc.status, exc.body())
    except GitDataError as exc:
        response = Response(404 if exc.not_found else 422, ApiError(422, str(exc)).body())
        if exc.not_found:
            response.body["status"] = "404"

    validate_response(sim.spec, match, method, path, response, sim.validation_failures)
    with sim.lock:
        tag(ctx, operation_id, response)
    if method in ("GET", "HEAD"):
        unchanged = not_modified(headers, response)
        if unchanged is not None:
            entry.counted, entry.not_modified = False, True
            return unchanged
    return response
