"""`mlbot validate`: data contracts, `.github/mlbot.yml` and the policies in force.

A contract is a Pandera schema (`pandera.io` YAML or JSON, or a Python module
exposing a DataFrameSchema) or mlbot's own format, which is translated into
one; `--export-pandera` writes that translation.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bot.cli.repo import add_repo_argument
from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    add_repo_argument(parser)
    parser.add_argument(
        "data", nargs="*", type=Path, help="CSV or Parquet files (default: the model's data)"
    )
    parser.add_argument("--model", help="whose contract and data (default: every model)")
    parser.add_argument(
        "--contract",
        type=Path,
        help="mlbot contract or Pandera schema (.yaml, .json, .py; default: data.contract)",
    )
    parser.add_argument(
        "--export-pandera",
        metavar="FILE",
        help="write the contract as a Pandera schema (pandera.io YAML; - for stdout) and stop",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.ml.render import render
    from bot.ml.validation import (
        Report,
        Violation,
        annotations,
        contract_for,
        model_tables,
        validate_config,
        validate_files,
    )

    root = Path(args.repo).resolve()
    if args.export_pandera:
        return _export(args, root)
    report = Report()
    has_config = (root / ".github" / "mlbot.yml").is_file()
    config = validate_config(root, report) if has_config or not args.data else None
    if args.data:
        if args.contract is None and (config is None or not args.model):
            raise InputError("give --contract (or --model) to say which contract the files follow.")
        data = config.models[args.model].data if config and args.model in config.models else {}
        contract = contract_for(root, data, args.contract)
        validate_files([p.resolve() for p in args.data], contract, root, report)
    elif config is not None:
        names = [args.model] if args.model else sorted(config.models)
        for name in names:
            if name not in config.models:
                raise InputError(f"model '{name}' is not configured in .github/mlbot.yml.")
            mc = config.models[name]
            if "contract" not in mc.data and args.contract is None:
                report.skipped.append(f"model {name} (no data contract)")
                continue
            try:
                contract = contract_for(root, mc.data, args.contract)
            except InputError as exc:  # one broken contract does not hide the other models
                report.violations.append(
                    Violation(mc.data.get("contract", ""), "contract", str(exc))
                )
                continue
            validate_files(model_tables(root, mc.data, report), contract, root, report)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in annotations(report):
            print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as fh:
            fh.write(render("validate.md.j2", report=report) + "\n")
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for c in report.checked:
            print(_line(f"checked {c['file']}: {c['rows']} rows, {c['columns']} columns"))
        for s in report.skipped:
            print(_line(f"skipped {s}"))
        for v in report.violations:
            where = f"{v.file}" + (f" [{v.column}]" if v.column else "")
            eg = f" e.g. {', '.join(v.examples)}" if v.examples else ""
            print(_line(f"  {where}: {v.rule}: {v.message}{eg}"))
        n = len(report.violations)
        print("OK: no violations" if not n else f"FAILED: {n} violation(s)")
    return 0 if report.ok else 1


def _line(text: str) -> str:
    """One output line whatever the data holds: in Actions a line break in a failure
    case would start a workflow command of its own (`::warning::...`)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _export(args: argparse.Namespace, root: Path) -> int:
    from bot.config.load import load_config, model_config
    from bot.ml.contract import export_pandera
    from bot.ml.validation import contract_for

    data: dict[str, str] = {}
    if args.contract is None:
        config = load_config(root)
        names = [args.model] if args.model else [
            n for n, mc in sorted(config.models.items()) if "contract" in mc.data
        ]  # fmt: skip
        if len(names) != 1:
            raise InputError(
                "--export-pandera writes one contract: give --contract FILE or --model NAME."
            )
        data = model_config(config, names[0]).data
    text = export_pandera(contract_for(root, data, args.contract))
    if args.export_pandera == "-":
        print(text, end="")
    else:
        Path(args.export_pandera).write_text(text)
        print(f"wrote {args.export_pandera}")
    return 0
