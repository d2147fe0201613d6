"""Where the actions and workflows live, and how to read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = sorted(p.parent for p in (ROOT / "actions").glob("*/action.yml"))
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
STARTER_WORKFLOWS = sorted((ROOT / "workflow-templates").glob("*.yml"))
ACTION_FILES = [ROOT / "action.yml", *(d / "action.yml" for d in ACTIONS)]
SIDE_CHECKOUT = ".mlbot-src"


def load(path: Path) -> dict[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); workflows want the string back.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_of(path: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """(job id or "runs", steps) for a workflow or an action."""
    data = load(path)
    if "runs" in data:
        return [("runs", data["runs"].get("steps", []))]
    return [(name, job.get("steps", [])) for name, job in data.get("jobs", {}).items()]
