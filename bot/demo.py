"""`make demo`: the whole ML loop on a fresh copy of the example, with no network.

validate → train (MLflow) → evaluate (no production yet) → register →
staging → production → drifted production data → drift (Evidently) and the
issue body → retrain → evaluate against production → promote → roll back →
model card. Every step runs the real libraries in a temporary git + DVC
repository; the output ends with where to look.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bot.cli import main as mlbot
from bot.ml.example import MODEL, git, materialize

# Columns the "new scanner" of the demo's story measures 35% larger.
SHIFTED = (
    "mean_radius",
    "mean_texture",
    "mean_perimeter",
    "mean_area",
    "mean_concavity",
    "worst_radius",
    "worst_perimeter",
    "worst_area",
    "worst_concavity",
    "worst_texture",
)


class Demo:
    def __init__(self, root: Path) -> None:
        from rich.console import Console

        self.root = root
        self.console = Console(highlight=False, force_terminal=sys.stdout.isatty() or None)
        self.started = time.monotonic()
        self.n = 0

    def step(self, title: str) -> None:
        self.n += 1
        elapsed = time.monotonic() - self.started
        self.console.rule(f"[bold cyan]{self.n}. {title}[/]  [dim]{elapsed:5.1f}s[/]", align="left")

    def cli(self, *args: str, expect: int = 0) -> str:
        """Run `mlbot ARGS --repo ROOT` in-process and show its output, dimmed."""
        argv = [*args, "--repo", str(self.root)]
        self.console.print(f"[bold]$ mlbot {' '.join(args)}[/]")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = mlbot(argv)
        text = (err.getvalue() + out.getvalue()).rstrip()
        if text:
            self.console.print(text, style="dim", markup=False)
        if code != expect:
            self.console.print(f"[red]exit {code}, expected {expect}[/]")
            raise SystemExit(f"demo step failed: mlbot {' '.join(args)}")
        return out.getvalue()

    def train(self, label: str) -> dict:
        from bot.config.load import load_config
        from bot.ml.progress import steps
        from bot.ml.training import train

        mc = load_config(self.root).models[MODEL]
        with steps(f"train {label}", total=4, console=self.console) as step:
            candidate = train(self.root, MODEL, mc, step=step)
        (self.root / "candidate.json").write_text(json.dumps(candidate, indent=2) + "\n")
        self._metrics_table(f"candidate {label} (holdout)", candidate["metrics"])
        self.console.print(
            f"MLflow run [bold]{candidate['lineage']['mlflow_run_id']}[/], artifact "
            f"{candidate['artifact']['uri']} sha256:{candidate['artifact']['sha256'][:12]}…"
        )
        return candidate

    def _metrics_table(self, title: str, metrics: dict) -> None:
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for name in metrics:
            table.add_column(name, justify="right")
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in metrics.values()))
        self.console.print(table)

    def evaluate(self, expect: int = 0) -> dict:
        self.cli("evaluate", MODEL, expect=expect)
        report = (self.root / "evaluation.md").read_text()
        from rich.markdown import Markdown

        self.console.print(Markdown(report.split("<details>")[0]))
        return json.loads((self.root / "evaluation.json").read_text())

    def drift(self, current: Path) -> dict:
        from bot.config.load import load_config, policy_for
        from bot.ml.drift import detect
        from bot.ml.progress import steps
        from bot.ml.reference import live_reference
        from bot.ml.render import drift_markdown
        from bot.ml.tabular import read_table
        from bot.registry.git_store import GitStore

        config = load_config(self.root)
        mc, policy = config.models[MODEL], policy_for(config, MODEL, self.root)
        store = GitStore(self.root)
        state = store.read_model(MODEL, store.head())
        record = state.record(state.live["production"])
        ref = live_reference(self.root, mc.data["reference"], record)
        self.console.print(
            f"reference: [bold]{ref.shown}[/] of {MODEL} {record.version} "
            f"(md5 {ref.digest[:12]}…, {ref.note})"
        )
        out = self.root / "drift"
        with steps("drift", total=5, console=self.console) as step:
            step("reading the reference and current data")
            result = detect(
                read_table(ref.path, "reference"),
                read_table(current, "current"),
                policy.drift,
                exclude=[mc.target or "target"],
                html=out / "report.html",
                step=step,
            )
        import evidently

        result = {
            "model": MODEL,
            "stage": "production",
            "live_version": record.version,
            "reference": ref.shown,
            "reference_digest": ref.digest,
            "current": str(current.relative_to(self.root)),
            **result,
        }
        (out / "drift.json").write_text(json.dumps(result, indent=2) + "\n")
        body = drift_markdown(result, evidently.__version__)
        (out / "drift.md").write_text(body)
        from rich.markdown import Markdown
        from rich.panel import Panel

        self.console.print(
            Panel(Markdown(body), title="drift issue body (drift/drift.md)", expand=False)
        )
        return result


def drifted_production_data(root: Path) -> Path:
    """A week of "production" rows: the holdout features, some measured 35% larger."""
    import pandas as pd

    frame = pd.read_csv(root / "data" / "holdout.csv").drop(columns=["target"])
    for column in SHIFTED:
        frame[column] = frame[column] * 1.35
    out = root / "production" / "current.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    return out


def set_param(root: Path, old: str, new: str) -> None:
    path = root / "params.yaml"
    text = path.read_text()
    if old not in text:
        raise SystemExit(f"params.yaml has no line {old!r}")
    path.write_text(text.replace(old, new))


def run(root: Path) -> float:
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    demo = Demo(root)
    c = demo.console
    c.print(
        f"[bold]mlbot demo[/] in [bold]{root}[/] (no network; real git, DVC, MLflow, Evidently)"
    )

    demo.step("a fresh copy of the example model repository")
    materialize(root)
    c.print(
        "examples/cancer-classifier → git repo, data/cancer.csv written from scikit-learn "
        "and tracked by DVC"
    )

    demo.step("validate the data contract, .github/mlbot.yml and the policy")
    demo.cli("validate")

    demo.step("train v1 (dvc repro train, tracked in MLflow)")
    demo.train("v1")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "train: cancer, first model")

    demo.step("evaluate: no production version yet, thresholds only")
    demo.evaluate()

    demo.step("register, then promote to staging and production")
    demo.cli("registry", "register", MODEL, "--candidate", str(root / "candidate.json"))
    demo.cli("registry", "promote", MODEL, "v0.1.0", "--to", "staging")
    demo.cli(
        "registry",
        "promote",
        MODEL,
        "v0.1.0",
        "--to",
        "production",
        "--approved-by",
        "oncology-lead@example.com",
    )

    demo.step("production data drifts (a new scanner reads some features 35% larger)")
    current = drifted_production_data(root)
    c.print(f"wrote {current.relative_to(root)}: {len(SHIFTED)} of 31 feature columns shifted")
    drift = demo.drift(current)
    if not drift["dataset_drift"]:
        raise SystemExit("demo expected drift and found none")

    demo.step("retrain (params: C 0.05 → 1.0), then evaluate against production v0.1.0")
    set_param(root, "C: 0.05", "C: 1.0")
    git(root, "commit", "-q", "-am", "retrain: cancer with C=1.0 (drift issue)")
    demo.train("v2")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "train: cancer, retrained")
    demo.evaluate()

    demo.step("register v0.2.0 and promote it through staging to production")
    demo.cli(
        "registry", "register", MODEL, "--candidate", str(root / "candidate.json"), "--refs", "#1"
    )
    demo.cli("registry", "promote", MODEL, "v0.2.0", "--to", "staging")
    demo.cli(
        "registry",
        "promote",
        MODEL,
        "v0.2.0",
        "--to",
        "production",
        "--approved-by",
        "oncology-lead@example.com",
        "--refs",
        "#1",
    )

    demo.step("roll back production to v0.1.0 (its artifact comes back from MLflow)")
    demo.cli("registry", "rollback", MODEL, "--because", "false negatives reported by site west")
    c.print(
        "evaluating the v0.2.0 candidate again: production is v0.1.0, fetched by its "
        "runs:/ URI and checked against the recorded sha256 (model/model.pkl is v0.2.0's now)"
    )
    demo.evaluate()

    demo.step("model card and the registry's audit log")
    demo.cli("model-card", MODEL, "--evaluation", str(root / "evaluation.json"))
    demo.cli("registry", "show", MODEL)
    demo.cli("registry", "history", MODEL)
    demo.cli("registry", "check")

    from bot.ml.tracking import ui_command

    elapsed = time.monotonic() - demo.started
    c.rule(f"[bold green]done in {elapsed:.0f}s[/]", align="left")
    c.print(
        "Where to look:\n"
        f"  registry history   mlbot registry history {MODEL} --repo {root}\n"
        f"  audit commits      git -C {root} log --format='%h %s%n%b' -- registry/\n"
        f"  GTO view           gto show --repo {root}\n"
        f"  MLflow UI          (cd {root} && {ui_command(root)})\n"
        f"  drift report       {root / 'drift' / 'report.html'}  (issue body: drift/drift.md)\n"
        f"  evaluation         {root / 'evaluation.md'}  and evaluation.json\n"
        f"  model card         {root / 'MODEL_CARD.md'}",
        markup=False,
    )
    return elapsed


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="mlbot-demo-")) / "cancer-model"
    run(root)
    __import__("bot.demo_bot", fromlist=["run"]).run(root=root.parent / "bot")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
