"""Routing and validation derived from GitHub's OpenAPI description."""

from __future__ import annotations

import json
import sys

import pytest

from bot.simulator.openapi import OpenAPISpec, _nullable_to_jsonschema, default_spec_path, load_spec


def test_paths_route_to_githubs_operations() -> None:
    spec = load_spec()
    cases = {
        ("GET", "/repos/o/r/git/ref/heads/feature/x"): ("git/get-ref", {"ref": "heads/feature/x"}),
        ("PATCH", "/repos/o/r/git/refs/tags/fraud#production#7"): (
            "git/update-ref",
            {"ref": "tags/fraud#production#7"},
        ),
        ("GET", "/repos/o/r/commits/abc123/status"): (
            "repos/get-combined-status-for-ref",
            {"ref": "abc123"},
        ),
        ("GET", "/repos/o/r/commits/abc123/check-runs"): ("checks/list-for-ref", {"ref": "abc123"}),
        ("GET", "/repos/o/r/contents/registry/fraud/stages.yaml"): (
            "repos/get-content",
            {"path": "registry/fraud/stages.yaml"},
        ),
        ("GET", "/repos/o/r/issues/comments/5"): ("issues/get-comment", {"comment_id": "5"}),
        ("GET", "/repos/o/r/issues/5/comments"): ("issues/list-comments", {"issue_number": "5"}),
    }
    for (method, path), (operation_id, params) in cases.items():
        match = spec.match(method, path)
        assert match is not None, path
        assert match.operation.operation_id == operation_id
        assert params.items() <= match.path_params.items()
    assert spec.match("GET", "/repos/o/r/isues") is None
    assert spec.match("DELETE", "/repos/o/r/issues/5") is None


def test_nullable_becomes_a_null_alternative() -> None:
    converted = _nullable_to_jsonschema(
        {
            "properties": {
                "a": {"type": "string", "nullable": True},
                "b": {"allOf": [{"$ref": "#/x"}], "nullable": True},
                "c": {"type": "string", "enum": ["x"], "nullable": True},
            }
        }
    )
    props = converted["properties"]
    assert props["a"] == {"type": ["string", "null"]}
    assert props["b"] == {"anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]}
    assert props["c"]["enum"] == ["x", None]


@pytest.fixture(scope="module")
def pure_python_spec() -> OpenAPISpec:
    saved = sys.modules.get("jsonschema_rs")
    sys.modules["jsonschema_rs"] = None  # type: ignore[assignment]  # makes the import fail
    try:
        with default_spec_path().open("rb") as fh:
            return OpenAPISpec(json.load(fh))
    finally:
        if saved is not None:
            sys.modules["jsonschema_rs"] = saved
        else:
            del sys.modules["jsonschema_rs"]


def test_both_validators_give_the_same_verdicts(pure_python_spec: OpenAPISpec) -> None:
    fast = load_spec()
    assert fast._rs is not None and pure_python_spec._rs is None
    comment = fast.skeleton("/components/schemas/issue-comment")
    comment["user"] = fast.skeleton("/components/schemas/simple-user")
    cases = [
        ("/components/schemas/issue-comment", comment, True),
        ("/components/schemas/issue-comment", {**comment, "id": "1"}, False),
        ("/components/schemas/issue-comment", {**comment, "user": None}, True),  # nullable
        ("/components/schemas/issue-comment", {"id": 1}, False),
        ("/components/schemas/git-ref", {"ref": "x"}, False),
    ]
    for pointer, instance, valid in cases:
        assert (fast.schema_errors(pointer, instance) == []) is valid, (pointer, instance)
        assert (pure_python_spec.schema_errors(pointer, instance) == []) is valid, (
            pointer,
            instance,
        )


@pytest.mark.parametrize(
    "schema",
    [
        "issue",
        "issue-comment",
        "pull-request",
        "full-repository",
        "workflow-run",
        "check-run",
        "artifact",
        "pull-request-review",
        "label",
        "reaction",
        "git-commit",
        "git-tag",
        "commit",
    ],
)
def test_skeletons_hold_every_required_field(schema: str) -> None:
    spec = load_spec()
    pointer = f"/components/schemas/{schema}"
    skeleton = spec.skeleton(pointer)
    required = spec.resolve(spec._at(pointer)).get("required", [])
    assert set(required) <= set(skeleton)
