"""The simulator's modules import one another without a cycle (its layout stays layered)."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.simulator

ROOT = Path(bot.simulator.__file__).parent


def _module_graph() -> dict[str, set[str]]:
    names = {
        ".".join(("bot", *p.relative_to(ROOT.parent).with_suffix("").parts)).removesuffix(
            ".__init__"
        ): p
        for p in ROOT.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        deps: set[str] = set()
        for node in ast.parse(path.read_text()).body:  # module level: what runs at import
            if isinstance(node, ast.ImportFrom) and node.module in names:
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
        graph[name] = (deps & names.keys()) - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for dep in sorted(graph[node]):
            found = visit(dep, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for node in sorted(graph):
        found = visit(node, [])
        if found:
            return found
    return None


def test_no_module_of_the_simulator_imports_itself_in_a_circle() -> None:
    graph = _module_graph()
    assert "bot.simulator.rest.checks" in graph  # the walk sees the layout
    assert _cycle(graph) is None


def test_a_cycle_is_found_when_there_is_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
