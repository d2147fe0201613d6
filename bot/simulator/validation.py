"""Requests and responses held against GitHub's OpenAPI description."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from bot.simulator.openapi import OpenAPISpec, RouteMatch
from bot.simulator.request import ApiError, Response, ValidationFailure

# The only departure from the schemas: their descriptions say "You can also pass an
# `array` of labels directly", PyGithub does so, but the schema lists only the object form.
_BARE_LABEL_ARRAY = {"issues/add-labels", "issues/set-labels"}


@dataclass
class ValidRequest:
    params: dict[str, Any]
    query: dict[str, Any]
    body: Any


def validate_request(
    spec: OpenAPISpec,
    match: RouteMatch,
    method: str,
    path: str,
    query_string: str,
    raw: bytes,
    failures: list[ValidationFailure],
) -> ValidRequest:
    """Path and query parameters coerced to their schema types, and the JSON body, checked.

    Anything GitHub would refuse is recorded in `failures` and answered with 422 (400 for
    a body that is not JSON).
    """
    operation = match.operation
    problems: list[str] = []
    params: dict[str, Any] = {}
    query: dict[str, Any] = {}
    raw_query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
    for param, pointer in spec.parameters(operation):
        name, where = param["name"], param["in"]
        schema = spec.resolve(param.get("schema", {}))
        if where == "path":
            value: Any = match.path_params.get(name)
        elif where == "query":
            values = raw_query.get(name)
            if values is None:
                if param.get("required"):
                    problems.append(f"query parameter {name!r} is required")
                continue
            value = values[-1]
        else:
            continue
        try:
            coerced = _coerce(value, schema)
        except ValueError:
            problems.append(f"{where} parameter {name!r}={value!r} is not a {schema.get('type')}")
            continue
        problems.extend(
            f"{where} parameter {name!r}: {e}" for e in spec.schema_errors(pointer, coerced)
        )
        (params if where == "path" else query)[name] = coerced

    body: Any = None
    body_pointer, body_required = spec.request_body_pointer(operation)
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            failures.append(ValidationFailure("request", method, path, ["body is not JSON"]))
            raise ApiError(400, "Problems parsing JSON") from None
    if operation.operation_id in _BARE_LABEL_ARRAY and isinstance(body, list):
        body = {"labels": body}
    if body_pointer:
        if body is None and body_required:
            problems.append("a JSON request body is required")
        elif body is not None:
            problems.extend(f"body {e}" for e in spec.schema_errors(body_pointer, body))
    if problems:
        failures.append(ValidationFailure("request", method, path, problems))
        raise ApiError(
            422,
            "Invalid request.\n\n" + "\n".join(problems),
            [
                {"resource": operation.operation_id, "code": "invalid", "message": p}
                for p in problems
            ],
        )
    return ValidRequest(params, query, body)


def validate_response(
    spec: OpenAPISpec,
    match: RouteMatch,
    method: str,
    path: str,
    response: Response,
    failures: list[ValidationFailure],
) -> None:
    """Record a failure unless `response` is one GitHub documents for this operation."""
    schema_pointer, documented = spec.response_pointer(match.operation, response.status)
    if response.status < 400 and not documented:
        failures.append(
            ValidationFailure(
                "response", method, path, [f"status {response.status} is not documented"]
            )
        )
    elif schema_pointer and response.raw is None:
        errors = spec.schema_errors(
            schema_pointer, response.body, ambiguous_ok=response.status >= 400
        )
        if errors:
            failures.append(ValidationFailure("response", method, path, errors))


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    if typ == "integer":
        return int(value)
    if typ == "number":
        return float(value)
    if typ == "boolean":
        if value not in {"true", "false"}:
            raise ValueError(value)
        return value == "true"
    if typ == "array":
        return value.split(",")
    return value
