"""A small evaluator for GitHub Actions `${{ }}` expressions, enough for mlbot's actions.

It follows the runner's rules where they matter to the steps: `==` compares strings without
regard to case, a missing property is null, null and '' are falsy, and interpolation turns
null into '' and booleans into 'true'/'false'.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op>==|!=|<=|>=|&&|\|\||[!<>().,\[\]])
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)
_INTERPOLATION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


class ExpressionError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot read expression at {text[pos:]!r}")
        pos = match.end()
        if match["str"] is not None:
            out.append(("lit", match["str"][1:-1].replace("''", "'")))
        elif match["num"] is not None:
            out.append(("lit", float(match["num"])))
        elif match["op"] is not None:
            out.append(("op", match["op"]))
        else:
            name = match["name"]
            literals = {"true": True, "false": False, "null": None}
            out.append(("lit", literals[name]) if name in literals else ("name", name))
    return out


def truthy(value: Any) -> bool:
    return value not in (None, "", 0, 0.0, False)


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _number(value: Any) -> float:
    """GitHub's coercion for a comparison of two types: null and '' are 0, junk is NaN."""
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, dict | list):
        return left == right
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return left is right
    # Different types: both become numbers, so a missing output equals '' as on GitHub.
    return _number(left) == _number(right)


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]], context: Mapping[str, Any], status: str):
        self.tokens = tokens
        self.i = 0
        self.context = context
        self.status = status

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, op: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (op is not None and token != ("op", op)):
            raise ExpressionError(f"expected {op or 'a value'}, got {token}")
        self.i += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            value = _equal(value, right) if op == "==" else not _equal(value, right)
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        kind, value = self.take()
        if kind == "op" and value == "(":
            value = self.or_()
            self.take(")")
        elif kind == "name":
            value = self.call(value) if self.peek() == ("op", "(") else self.context.get(value)
        elif kind != "lit":
            raise ExpressionError(f"unexpected {value!r}")
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key = self.or_()
                self.take("]")
            value = value.get(key) if isinstance(value, Mapping) else None
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        functions: dict[str, Callable[..., Any]] = {
            "always": lambda: True,
            "success": lambda: self.status == "success",
            "failure": lambda: self.status == "failure",
            "cancelled": lambda: False,
            "contains": lambda a, b: to_text(b).casefold() in to_text(a).casefold(),
            "startsWith": lambda a, b: to_text(a).casefold().startswith(to_text(b).casefold()),
            "endsWith": lambda a, b: to_text(a).casefold().endswith(to_text(b).casefold()),
            "fromJSON": lambda a: json.loads(to_text(a)),
            "toJSON": lambda a: json.dumps(a, indent=2),
            "format": lambda f, *a: re.sub(r"\{(\d+)\}", lambda m: to_text(a[int(m[1])]), f),
        }
        if name not in functions:
            raise ExpressionError(f"unknown function {name}()")
        return functions[name](*args)


def evaluate(expression: str, context: Mapping[str, Any], status: str = "success") -> Any:
    """Evaluate one expression (without the `${{ }}`)."""
    return _Parser(_tokens(expression), context, status).parse()


def interpolate(template: Any, context: Mapping[str, Any]) -> str:
    """Substitute every `${{ }}` in a YAML value the way the runner does for `env:` and `with:`."""
    text = to_text(template)
    return _INTERPOLATION.sub(lambda m: to_text(evaluate(m[1], context)), text)


def condition(expression: str | bool | None, context: Mapping[str, Any], status: str) -> bool:
    """A step's `if:`: default success(); a bare expression without a status function is
    implicitly `success() && (...)`, as the runner does."""
    if expression is None:
        return status == "success"
    if isinstance(expression, bool):
        return expression and status == "success"
    text = expression.strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.DOTALL)
    if match:
        text = match[1]
    if not re.search(r"\b(always|success|failure|cancelled)\s*\(", text):
        text = f"success() && ({text})"
    return truthy(evaluate(text, context, status))
