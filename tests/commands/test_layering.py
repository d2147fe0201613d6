"""The command layer sits on top of chat-ops' adapters, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.chatops


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_chatops_module_imports_the_command_layer() -> None:
    root = Path(bot.chatops.__file__).parent
    offenders = {
        str(path.relative_to(root)): sorted(
            m for m in imported_modules(path) if m.startswith("bot.commands")
        )
        for path in sorted(root.rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
