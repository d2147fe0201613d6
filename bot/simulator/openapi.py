"""GitHub's OpenAPI description, loaded once per process, as a request/response checker.

The document is npm `@octokit/openapi` (`generated/api.github.com.json`, 13 MB).
We load the non-dereferenced variant (0.2 s instead of several seconds for the
73 MB `.deref.json`), rewrite OpenAPI 3.0 `nullable` into JSON Schema once, and
validate with jsonschema (Draft 4 semantics, which OpenAPI 3.0 schemas follow)
resolving `$ref` through a `referencing` registry. Everything derived
(compiled routes, validators) is cached for the life of the process.

Validation uses jsonschema-rs when it is installed (a compiled validator, about
100 times faster on GitHub's large schemas, which matters when every response
of a long end-to-end test is checked), and the pure-Python jsonschema otherwise.
Formats (uri, date-time) are not checked by either, as GitHub's own answers do
not always honour them.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_ENV = "MLBOT_GITHUB_OPENAPI"
_BASE_URI = "urn:github-openapi"
# Parameters whose value may contain slashes (a git ref like heads/main, a file path).
_GREEDY_PARAMS = {"path", "ref", "basehead"}  # x-multi-segment: branch names with slashes


def default_spec_path() -> Path:
    env = os.environ.get(SPEC_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "node_modules/@octokit/openapi/generated/api.github.com.json"
        if candidate.is_file():
            return candidate
    return Path.cwd() / "node_modules/@octokit/openapi/generated/api.github.com.json"


def _nullable_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` is not JSON Schema; rewrite it as a null alternative."""
    if isinstance(node, dict):
        out = {k: _nullable_to_jsonschema(v) for k, v in node.items()}
        if out.pop("nullable", False) is True:
            if "type" in out and not isinstance(out["type"], list):
                out["type"] = [out["type"], "null"]
                if "enum" in out and None not in out["enum"]:
                    out["enum"] = [*out["enum"], None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_nullable_to_jsonschema(v) for v in node]
    return node


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    spec: dict[str, Any]
    pointer: str  # JSON pointer of the operation object inside the document


@dataclass
class RouteMatch:
    operation: Operation
    path_params: dict[str, str]


@dataclass
class Problems:
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.messages)


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class OpenAPISpec:
    """Routes and validators derived from one OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = _nullable_to_jsonschema(document)
        try:
            import jsonschema_rs
        except ImportError:
            jsonschema_rs = None
        if jsonschema_rs is not None:
            self._rs = jsonschema_rs
            self._registry: Any = jsonschema_rs.Registry(
                [(_BASE_URI, self.document)], draft=jsonschema_rs.Draft4
            )
        else:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT4

            self._rs = None
            self._registry = Registry().with_resource(
                _BASE_URI, Resource.from_contents(self.document, default_specification=DRAFT4)
            )
        self._routes: dict[str, list[tuple[re.Pattern[str], Operation]]] = {}
        self._by_id: dict[str, Operation] = {}
        self._validators: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._compile_routes()

    # -- routing ---------------------------------------------------------------------------
    def _compile_routes(self) -> None:
        routes: dict[str, list[tuple[tuple[int, int], re.Pattern[str], Operation]]] = {}
        for template, item in self.document["paths"].items():
            segments = template.strip("/").split("/")
            literal = sum(1 for s in segments if not s.startswith("{"))
            pattern = ""
            for seg in segments:
                m = re.fullmatch(r"\{([^}]+)\}", seg)
                if m:
                    name = m.group(1)
                    # An empty file path is the repository's root (`GET …/contents/`).
                    body = (".*" if name == "path" else ".+") if name in _GREEDY_PARAMS else "[^/]+"
                    pattern += f"/(?P<{name.replace('-', '_')}>{body})"
                else:
                    pattern += "/" + re.escape(seg)
            regex = re.compile(pattern + "$")
            for method, op in item.items():
                if method not in {"get", "put", "post", "patch", "delete", "head"}:
                    continue
                pointer = f"/paths/{_pointer_escape(template)}/{method}"
                operation = Operation(method.upper(), template, op["operationId"], op, pointer)
                routes.setdefault(method.upper(), []).append(
                    ((-literal, -len(segments)), regex, operation)
                )
                self._by_id[op["operationId"]] = operation
        for method, items in routes.items():
            items.sort(key=lambda t: t[0])
            self._routes[method] = [(regex, op) for _, regex, op in items]

    def match(self, method: str, path: str) -> RouteMatch | None:
        for regex, op in self._routes.get(method.upper(), []):
            m = regex.match(path)
            if m:
                params = {}
                for name in re.findall(r"\{([^}]+)\}", op.template):
                    params[name] = m.group(name.replace("-", "_"))
                return RouteMatch(op, params)
        return None

    def operation(self, operation_id: str) -> Operation:
        return self._by_id[operation_id]

    def allowed_methods(self, path: str) -> list[str]:
        return [m for m, items in self._routes.items() if any(r.match(path) for r, _ in items)]

    # -- schemas ---------------------------------------------------------------------------
    def resolve(self, node: Any) -> Any:
        """Follow `$ref` chains (only local ones exist in this document)."""
        while isinstance(node, dict) and "$ref" in node:
            node = self._at(node["$ref"])
        return node

    def _at(self, ref: str) -> Any:
        node: Any = self.document
        for token in ref.lstrip("#/").split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def validator(self, pointer: str) -> Any:
        """A cached jsonschema validator for the schema at a JSON pointer."""
        with self._lock:
            found = self._validators.get(pointer)
            if found is None:
                if self._rs is not None:
                    fragment = urllib.parse.quote(pointer, safe="/~")
                    found = self._rs.Draft4Validator(
                        {"$ref": f"{_BASE_URI}#{fragment}"},
                        registry=self._registry,
                        validate_formats=False,
                    )
                else:
                    import jsonschema

                    found = jsonschema.Draft4Validator(
                        {"$ref": f"{_BASE_URI}#{pointer}"}, registry=self._registry
                    )
                self._validators[pointer] = found
        return found

    def schema_errors(
        self, pointer: str, instance: Any, *, limit: int = 5, ambiguous_ok: bool = False
    ) -> list[str]:
        """Validation messages (empty when valid).

        `ambiguous_ok` forgives a `oneOf` matched by more than one branch: several of
        GitHub's error responses offer two error schemas with no required field, which
        every object matches, so no error body could satisfy `oneOf` there.
        """
        validator = self.validator(pointer)
        if validator.is_valid(instance):  # the common case, and far cheaper than iter_errors
            return []
        errors = []
        for err in validator.iter_errors(instance):
            if ambiguous_ok and _matches_several_branches(err):
                continue
            path = err.instance_path if self._rs is not None else err.absolute_path
            where = "/".join(str(p) for p in path) or "(root)"
            errors.append(f"{where}: {err.message[:300]}")
            if len(errors) >= limit:
                break
        return errors

    def parameters(self, op: Operation) -> list[tuple[dict[str, Any], str]]:
        """Each parameter object with the JSON pointer of its schema."""
        out = []
        for i, param in enumerate(op.spec.get("parameters", [])):
            if "$ref" in param:
                ref = param["$ref"]
                resolved = self.resolve(param)
                out.append((resolved, ref.lstrip("#") + "/schema"))
            else:
                out.append((param, f"{op.pointer}/parameters/{i}/schema"))
        return out

    def request_body_pointer(self, op: Operation) -> tuple[str | None, bool]:
        body = op.spec.get("requestBody")
        if not body:
            return None, False
        base = op.pointer + "/requestBody"
        if "$ref" in body:
            base = body["$ref"].lstrip("#")
            body = self.resolve(body)
        if "application/json" not in body.get("content", {}):
            return None, bool(body.get("required"))
        return f"{base}/content/application~1json/schema", bool(body.get("required"))

    def response_pointer(self, op: Operation, status: int) -> tuple[str | None, bool]:
        """(schema pointer or None, whether the status is documented at all)."""
        responses = op.spec.get("responses", {})
        key = (
            str(status)
            if str(status) in responses
            else ("default" if "default" in responses else None)
        )
        if key is None:
            return None, False
        base = f"{op.pointer}/responses/{key}"
        resp = responses[key]
        if "$ref" in resp:
            base = resp["$ref"].lstrip("#")
            resp = self.resolve(resp)
        content = resp.get("content", {})
        if "application/json" in content and "schema" in content["application/json"]:
            return f"{base}/content/application~1json/schema", True
        return None, True

    def webhook_pointer(self, event: str, action: str | None) -> str | None:
        """The payload schema GitHub documents for an event (and action)."""
        hooks = self.document.get("x-webhooks", {})
        name = event.replace("_", "-") + (f"-{action.replace('_', '-')}" if action else "")
        if name not in hooks:
            return None
        body = hooks[name]["post"]["requestBody"]["content"]["application/json"]["schema"]
        return body["$ref"].lstrip("#") if "$ref" in body else None

    # -- synthesis -------------------------------------------------------------------------
    def skeleton(self, pointer: str) -> Any:
        """The smallest instance of a schema: required properties only, neutral values.

        Objects the simulator returns start from this and get their meaningful
        fields overlaid, so every response carries each field GitHub promises.
        """
        # A fresh copy per call; parsing cached JSON is several times faster than deepcopy.
        return json.loads(self._skeleton_cached(pointer))

    @lru_cache(maxsize=1024)  # noqa: B019 - one spec per process, lives forever
    def _skeleton_cached(self, pointer: str) -> str:
        return json.dumps(self._synth(self._at(pointer), depth=0))

    def _synth(self, schema: Any, depth: int) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > 12:
            return None
        if "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            return values[0] if values else None
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for sub in schema["allOf"]:
                part = self._synth(sub, depth + 1)
                if isinstance(part, dict):
                    merged.update(part)
            return merged
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(s) for s in schema[key]]
                non_null = [s for s in options if s.get("type") != "null"]
                return self._synth((non_null or options)[0], depth + 1)
        typ = schema.get("type")
        if isinstance(typ, list):
            non_null = [t for t in typ if t != "null"]
            if not non_null:
                return None
            typ = non_null[0]
            if "null" in schema["type"] and depth > 0 and typ == "object":
                return None
        if typ == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {
                name: self._synth(props.get(name, {}), depth + 1)
                for name in schema.get("required", [])
            }
        if typ == "array":
            return []
        if typ == "integer":
            return max(0, int(schema.get("minimum", 0)))
        if typ == "number":
            return 0
        if typ == "boolean":
            return False
        if typ == "string":
            return ""
        return None


def _matches_several_branches(err: Any) -> bool:
    """A `oneOf` failure because the instance matched more than one branch."""
    kind = getattr(err, "kind", None)
    if kind is not None:
        return type(kind).__name__ == "OneOfMultipleValid"
    return err.validator == "oneOf" and "valid under each of" in err.message


_SPEC: OpenAPISpec | None = None
_SPEC_LOCK = threading.Lock()


def load_spec(path: Path | None = None) -> OpenAPISpec:
    """The process-wide spec, loaded on first use."""
    global _SPEC
    with _SPEC_LOCK:
        if _SPEC is None:
            spec_path = path or default_spec_path()
            if not spec_path.is_file():
                raise FileNotFoundError(
                    f"GitHub's OpenAPI description is missing at {spec_path}; "
                    "run `npm ci` (npm package @octokit/openapi) or set "
                    f"{SPEC_ENV}."
                )
            with spec_path.open("rb") as fh:
                _SPEC = OpenAPISpec(json.load(fh))
        return _SPEC
