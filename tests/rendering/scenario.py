"""Real runs that produce every body the bot writes, collected by name for the browser.

One simulated GitHub and the real bot (the e2e harness), driven through a
day of a model's life: a passing PR and its `/promote` (pending, a
non-owner's approval, an owner's approval, done), the comment refreshed after
the promotion, a failing PR whose slice fell, a rollback on an incident, a
refusal, `/status`, `/help` and `/help promote`, and a drift check (the real
CLI, real Evidently) that opens an issue, comments on a re-detection and gets
a retraining PR. Each body is what the simulator holds, as GitHub would.
"""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.chatops.metric_comment import parse_marker
from bot.simulator import GitHubSimulator
from tests.e2e.conftest import BOT, MLBOT_YML, REPO, World, build_world, evaluation

ACTIONS = "github-actions[bot]"
GATE = "      metrics:\n        accuracy: {min: 0.9, max_regression: 0.02}\n"
AUTO_RETRAIN_YML = MLBOT_YML.replace(GATE, GATE + "      drift: {auto_retrain: true}\n")
# A slice gate too, so the failing PR's comment counts every gate: metrics and slices.
SLICE_GATE_YML = AUTO_RETRAIN_YML.replace(
    GATE, GATE + "      slices:\n        accuracy: {max_gap: 0.1}\n"
)


@dataclass
class Bodies:
    """Body text by name, plus the facts a test checks them against."""

    world: World
    bodies: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, body: str | None) -> None:
        assert body, f"the scenario produced no {name}"
        self.bodies[name] = body


def _slices(groups: dict[str, float]) -> dict[str, Any]:
    values = list(groups.values())
    return {"accuracy": {"groups": groups, "gap": round(max(values) - min(values), 6)}}


def passing_evaluation() -> dict[str, Any]:
    doc = evaluation(
        metrics={"accuracy": 0.9766, "roc_auc": 0.9958, "log_loss": 0.0812, "f1": 0.9811},
        production=("v1.1.0", {"accuracy": 0.9708, "roc_auc": 0.9954, "log_loss": 0.0806}),
    )
    doc["candidate"]["slices"] = _slices({"mean_radius<=14": 0.9812, "mean_radius>14": 0.9655})
    doc["production"]["slices"] = _slices({"mean_radius<=14": 0.9741, "mean_radius>14": 0.9650})
    doc["candidate"]["params"] = {"C": 0.5, "max_iter": 500, "solver": "lbfgs"}
    return doc


def failing_evaluation() -> dict[str, Any]:
    doc = copy.deepcopy(passing_evaluation())
    doc["candidate"]["version"] = "v1.3.0"
    # Measured against v1.2.0, production by then.
    doc["production"]["version"] = "v1.2.0"
    doc["production"]["metrics"] = dict(passing_evaluation()["candidate"]["metrics"])
    doc["production"]["slices"] = passing_evaluation()["candidate"]["slices"]
    doc["candidate"]["metrics"] = {
        "accuracy": 0.9415,
        "roc_auc": 0.9954,
        "log_loss": 0.1395,
        "f1": 0.9530,
    }
    doc["candidate"]["slices"] = _slices({"mean_radius<=14": 0.9830, "mean_radius>14": 0.8421})
    return doc


def metric_comment(world: World, number: int, model: str = "cancer") -> str:
    for c in world.sim.comments_on(REPO, number):
        parsed = parse_marker(c.body)
        if c.user == BOT and parsed == (model, 1):
            return c.body
    said = world.bot_comments(number)
    raise AssertionError(f"no metric comment for {model} on #{number}: {said}")


def done_reply(world: World, number: int) -> str:
    """The reply of a command carried out (a pending one completes in a reply of its own)."""
    done = [b for b in world.command_replies(number) if b.startswith("<!-- mlbot:done ")]
    assert done, f"no command was carried out on #{number}: {world.bot_comments(number)}"
    return done[-1]


def drift_frames(tmp: Path) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    cols = ["mean_radius", "mean_texture", "mean_area", "mean_smoothness"]
    ref = pd.DataFrame(rng.normal(0, 1, (300, 4)), columns=cols)
    cur = pd.DataFrame(rng.normal(0, 1, (300, 4)), columns=cols)
    cur["mean_radius"] = rng.normal(1.5, 1, 300)
    cur["mean_area"] = rng.normal(0.8, 1.4, 300)
    ref["target"] = cur["target"] = 0
    ref.to_csv(tmp / "reference.csv", index=False)
    cur.to_csv(tmp / "current.csv", index=False)
    return tmp / "reference.csv", tmp / "current.csv"


def run_drift(world: World, tmp: Path, env: Callable[[str, str], None]) -> int:
    from bot.cli import main as mlbot

    checkout = tmp / "checkout"
    if not checkout.exists():
        subprocess.run(
            ["git", "clone", "--quiet", str(world.git_dir), str(checkout)],
            check=True,
            capture_output=True,
        )
    reference, current = drift_frames(tmp)
    # A workflow's GITHUB_TOKEN writes issues (and so sets their labels).
    world.sim.add_collaborator(REPO, ACTIONS, "write")
    env("GITHUB_TOKEN", world.sim.add_token(ACTIONS))
    env("GITHUB_REPOSITORY", REPO)
    env("GITHUB_API_URL", world.sim.url)
    env("GITHUB_SERVER_URL", "https://github.com")
    env("GITHUB_RUN_ID", "4242")
    return mlbot(
        [
            "drift",
            "--repo",
            str(checkout),
            "--model",
            "cancer",
            "--reference",
            str(reference),
            "--current",
            str(current),
            "--out-dir",
            str(tmp / "drift"),
            "--open-issue",
        ]
    )


def play(world: World, tmp: Path, env: Callable[[str, str], None]) -> Bodies:
    """The day, in order; every body a user would read along the way."""
    out = Bodies(world)
    world.sim.push(REPO, "main", {".github/mlbot.yml": AUTO_RETRAIN_YML}, author="alice")

    # A passing PR, then /promote: pending, a non-owner's approval, an owner's.
    pr = world.open_pr(evaluation_doc=passing_evaluation())
    world.settle()
    out.add("metric-comment", metric_comment(world, pr))
    world.comment(pr, "/promote")
    world.settle()
    out.add("promote-pending", world.last_reply(pr))
    world.review(pr, user="erin")  # not a code owner: the reply says why it does not count
    world.settle()
    out.add("promote-pending-non-owner", world.last_reply(pr))
    world.review(pr, user="alice")
    world.settle()
    out.add("promote-done", done_reply(world, pr))
    out.facts["promote_commit"] = world.main_sha()
    world.comment(pr, "/status cancer", user="erin")
    world.settle()
    out.add("status", world.last_reply(pr))
    out.add("metric-comment-promoted", metric_comment(world, pr))
    out.facts["promoted_pr"] = pr

    # A failing PR: accuracy fell past the allowed regression and a slice fell.
    world.sim.push(REPO, "main", {".github/mlbot.yml": SLICE_GATE_YML}, author="alice")
    bad = world.open_pr(branch="worse-cancer", evaluation_doc=failing_evaluation())
    world.settle()
    out.add("metric-comment-failing", metric_comment(world, bad))
    world.comment(bad, "/promote")
    world.settle()
    out.add("promote-refused", world.last_reply(bad))

    # An incident: a writer asks for a rollback, a non-owner's /approve does not count,
    # an owner's does.
    incident = world.issue("Incident: cancer false negatives since v1.2.0")
    # The command layer counts a stage change in the same second as a request as a change
    # (whole-second clocks), and a rollback asked then is superseded: ask a second later.
    time.sleep(1.1)
    world.comment(incident, "/rollback cancer because false negatives doubled")
    world.settle()
    out.add("rollback-pending", world.last_reply(incident))
    world.comment(incident, "/approve", user="erin")
    world.settle()
    out.add("approve-non-owner", world.last_reply(incident))
    world.comment(incident, "/approve", user="alice")
    world.settle()
    out.add("approve-owner", world.last_reply(incident))
    out.add("rollback-done", done_reply(world, incident))
    world.comment(incident, "/help")
    world.settle()
    out.add("help", world.last_reply(incident))
    world.comment(incident, "/help promote")
    world.settle()
    out.add("help-promote", world.last_reply(incident))

    # Drift: the real CLI opens the issue; the bot opens the retraining PR; a re-detection.
    assert run_drift(world, tmp, env) == 1
    world.settle()
    found = [i for i in world.sim.issues(REPO) if i.pull is None and "mlbot:drift" in i.labels]
    assert len(found) == 1, [(i.number, i.pull is None, i.labels) for i in world.sim.issues(REPO)]
    issue = found[0]
    out.add("drift-issue", issue.body)
    retrain = [
        i
        for i in world.sim.issues(REPO)
        if i.pull is not None and i.pull.head_ref.startswith("mlbot/retrain/")
    ]
    out.add("retrain-pr", retrain[0].body if retrain else None)
    assert run_drift(world, tmp, env) == 1
    world.settle()
    again = [c.body for c in world.sim.comments_on(REPO, issue.number) if c.user == ACTIONS]
    out.add("drift-again", again[-1] if again else None)
    return out


def scenario(tmp: Path, template: Path, env: Callable[[str, str], None]) -> Iterator[Bodies]:
    """Start the world, play the day, yield the bodies; stop everything afterwards."""
    started: list[GitHubSimulator] = []

    def make_sim(**kwargs: Any) -> GitHubSimulator:
        sim = GitHubSimulator(tmp / f"github-sim-{len(started)}", **kwargs).start()
        started.append(sim)
        return sim

    worlds = build_world(make_sim, tmp, template)
    try:
        world = next(worlds)
        yield play(world, tmp, env)
        for _ in worlds:
            pass
    finally:
        for sim in started:
            sim.stop()
    for sim in started:
        sim.assert_valid()
