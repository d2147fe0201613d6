"""`mlbot validate`: data against its contract, and the repository's mlbot configuration.

Everything is checked and every violation reported; nothing stops at the
first problem. A data file that cannot be read at all is a violation of its
own (rule `readable`), so one broken file does not hide the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config.schema import CONFIG_PATH, RepoConfig
from bot.errors import InputError
from bot.ml.contract import Violation, check, load_schema
from bot.ml.tabular import read_table

if TYPE_CHECKING:
    import pandera.pandas as pa

# Data entries of a model that are not tables to check against its contract.
NOT_TABLES = {"contract"}


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    checked: list[dict] = field(default_factory=list)  # {"file", "rows", "columns"}
    skipped: list[str] = field(default_factory=list)  # "path (why)"

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "skipped": self.skipped,
            "violations": [v.to_json() for v in self.violations],
        }


def validate_files(
    files: list[Path], schema: pa.DataFrameSchema, root: Path, report: Report
) -> None:
    for path in files:
        shown = _shown(path, root)
        try:
            frame = read_table(path)
        except InputError as exc:
            report.violations.append(Violation(shown, "readable", str(exc)))
            continue
        report.checked.append({"file": shown, "rows": len(frame), "columns": len(frame.columns)})
        report.violations.extend(check(frame, schema, shown))


def validate_config(root: Path, report: Report) -> RepoConfig | None:
    """The configuration and each model's policy; a problem is a violation, not a crash."""
    from bot.config.load import load_config, policy_for

    try:
        config = load_config(root)
    except InputError as exc:
        report.violations.append(Violation(CONFIG_PATH, "config", str(exc)))
        return None
    for name, mc in config.models.items():
        try:
            policy_for(config, name, root)
        except InputError as exc:
            report.violations.append(Violation(CONFIG_PATH, "policy", f"model {name}: {exc}"))
        for key in ("train", "holdout", "reference"):
            if key in mc.data and not mc.data[key]:
                report.violations.append(
                    Violation(CONFIG_PATH, "config", f"model {name}: data.{key} is empty.")
                )
        if mc.target is None and mc.data.get("holdout"):
            report.violations.append(
                Violation(
                    CONFIG_PATH,
                    "config",
                    f"model {name}: data.holdout is set but no `target:` label column.",
                )
            )
    return config


def model_tables(root: Path, data: dict[str, str], report: Report) -> list[Path]:
    """The model's declared data files that exist; the others are noted as skipped."""
    files: list[Path] = []
    for key, rel in data.items():
        if key in NOT_TABLES:
            continue
        path = root / rel
        if path in files:
            continue
        if path.is_file():
            files.append(path)
        else:
            report.skipped.append(f"{rel} ({key}: not produced yet)")
    return files


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def contract_path(root: Path, data: dict[str, str], explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    if "contract" not in data:
        raise InputError("no data contract: give --contract or set data.contract for the model.")
    return root / data["contract"]


def contract_for(root: Path, data: dict[str, str], explicit: Path | None) -> pa.DataFrameSchema:
    """The model's contract as a Pandera schema (mlbot's own format is translated)."""
    return load_schema(contract_path(root, data, explicit))


def annotations(report: Report) -> list[str]:
    """GitHub Actions workflow commands, one `::error` per violation."""
    lines = []
    for v in report.violations:
        title = f"{v.rule}" + (f" ({v.column})" if v.column else "")
        message = v.message + (f" e.g. {', '.join(v.examples)}" if v.examples else "")
        lines.append(
            f"::error file={_escape_prop(v.file)},title={_escape_prop(title)}::{_escape(message)}"
        )
    return lines


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")
