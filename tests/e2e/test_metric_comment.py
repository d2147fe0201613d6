"""The PR metric comment end to end: a completed run gives one sticky comment, edited in place."""

from __future__ import annotations

import json
import re

from bot.chatops.metric_comment import parse_marker
from tests.e2e.conftest import BOT, REPO, World, evaluation

LIMIT = 65_536


def metric_comments(world: World, number: int, model: str = "cancer") -> list[tuple[int, str]]:
    """(part, body) of the bot's metric comments for a model, in the order GitHub lists them."""
    out = []
    for c in world.sim.comments_on(REPO, number):
        parsed = parse_marker(c.body)
        if c.user == BOT and parsed and parsed[0] == model:
            out.append((parsed[1], c.body))
    return out


def bot_comment_creations(world: World) -> int:
    return sum(
        1
        for r in world.sim.requests
        if r.operation_id == "issues/create-comment" and r.login == BOT
    )


def test_a_completed_run_posts_one_comment_and_the_next_run_edits_it(world: World) -> None:
    number = world.open_pr()
    world.settle()
    [(part, body)] = metric_comments(world, number)
    assert part == 1
    # The diff table against production as the registry has it (v1.1.0 live).
    # The verdict first, under the default branch's policy (one accuracy gate), and what next.
    assert body.splitlines()[1] == (
        "**✅ cancer v1.2.0 passes 1/1 gate vs production v1.1.0 — comment /promote; "
        "needs 1 approval from @alice, @bob or @dave**"
    )
    assert re.search(
        r"\| accuracy \| 0\.9500 \| 0\.9550 \| \+0\.50 pp 🟢 \| ≥ 0\.9000, at most 2\.00 pp "
        r"worse \| ✅ \|",
        body,
    )
    assert "| Trivy scan | ➖ not run in this workflow run | no stage |" in body
    # The chart: production history (v1.0.0, then v1.1.0) and the candidate, from zero.
    assert "xychart-beta\n" in body
    assert 'x-axis ["v1.0.0", "v1.1.0", "v1.2.0 candidate"]' in body
    assert "bar [0.93, 0.95, 0.955]" in body
    assert f"head `{world.head(number)[:7]}`" in body
    comment_ids = [c.id for c in world.sim.comments_on(REPO, number) if c.user == BOT]

    worse = evaluation(metrics={"accuracy": 0.91, "roc_auc": 0.97})
    run_id = world.ci(number, evaluation_doc=worse)
    world.settle()
    [(_, body)] = metric_comments(world, number)
    assert [c.id for c in world.sim.comments_on(REPO, number) if c.user == BOT] == comment_ids
    assert bot_comment_creations(world) == 1
    assert "| accuracy | 0.9500 | 0.9100 | \u22124.00 pp 🔴 |" in body
    assert "fails 1 of 1 gate vs production v1.1.0: accuracy" in body
    assert "bar [0.93, 0.95, 0.91]" in body

    # The same run completing again (a re-run's event) changes nothing: the comment is right.
    edits = world.sim.count("issues/update-comment")
    world.sim.complete_workflow_run(run_id)
    world.settle()
    assert world.sim.count("issues/update-comment") == edits
    assert len(metric_comments(world, number)) == 1


def test_the_marker_is_found_on_page_three_of_the_comments(world: World) -> None:
    number = world.open_pr(run_workflow=False)
    world.settle()
    url, secret = world.sim.webhooks.url, world.sim.webhooks.secret
    world.sim.set_webhook(None, None)  # 205 chatty comments need no bot
    for i in range(205):
        world.sim.comment(REPO, number, f"comment {i}", user="erin")
    world.sim.set_webhook(url, secret)
    world.ci(number)
    world.settle()
    comments = world.sim.comments_on(REPO, number)
    assert [i for i, c in enumerate(comments) if parse_marker(c.body)] == [205]
    first = comments[205].body

    world.ci(number, evaluation_doc=evaluation(metrics={"accuracy": 0.96, "roc_auc": 0.99}))
    world.settle()
    comments = world.sim.comments_on(REPO, number)
    assert [i for i, c in enumerate(comments) if parse_marker(c.body)] == [205]
    assert comments[205].body != first and "0.96" in comments[205].body
    assert bot_comment_creations(world) == 1
    pages = {
        r.query
        for r in world.sim.requests
        if r.operation_id == "issues/list-comments" and r.login == BOT
    }
    assert any("page=3" in q for q in pages)


def _balanced(body: str) -> bool:
    fences = sum(1 for line in body.splitlines() if line.startswith("```"))
    return fences % 2 == 0 and body.count("<details") == body.count("</details>")


def test_a_comment_past_65536_characters_is_split_into_parts_then_shrinks(world: World) -> None:
    many = {f"metric_{i:04d}_{'x' * 30}": 0.5 + i / 10_000 for i in range(2500)}
    many["accuracy"] = 0.955
    number = world.open_pr(evaluation_doc=evaluation(metrics=many))
    world.settle()
    parts = metric_comments(world, number)
    assert len(parts) >= 3
    assert [p for p, _ in parts] == list(range(1, len(parts) + 1))
    for index, body in parts:
        assert len(body) <= LIMIT
        assert _balanced(body), f"part {index} leaves a block open"
        assert f"part {index} of {len(parts)}" in body
    # A part cut inside the metric table starts with the table's header again.
    header = "| Metric | Production v1.1.0 | Candidate v1.2.0 | Change | Threshold | Gate |"
    assert header + "\n|---" in parts[1][1]
    # Every metric row made it into some part.
    joined = "".join(body for _, body in parts)
    assert all(f"| {name} |" in joined for name in list(many)[::250])

    world.ci(number)  # a normal evaluation again: one part, the extra parts are deleted
    world.settle()
    [(part, body)] = metric_comments(world, number)
    assert part == 1 and "part 1 of" not in body
    assert "| accuracy | 0.9500 | 0.9550 |" in body


def test_a_fork_pr_gets_the_comment_from_the_app(world: World) -> None:
    sim = world.sim
    sim.fork(REPO, "mallory")
    head = sim.push(
        "mallory/models",
        "faster",
        {"models/cancer/train.py": "print('from a fork')\n"},
        author="mallory",
    )
    number = sim.open_pr(REPO, "faster", user="mallory", head_repo="mallory/models")
    doc = evaluation(version=None, metrics={"accuracy": 0.99, "roc_auc": 0.99})
    # GitHub sends fork runs without `pull_requests`: the bot finds the PR by owner:branch.
    sim.create_workflow_run(
        REPO,
        name="mlbot",
        path=".github/workflows/mlbot.yml",
        head_sha=head,
        head_branch="faster",
        head_repo="mallory/models",
        pull_numbers=[],
        artifacts={"mlbot-evaluation-cancer": {"evaluation.json": json.dumps(doc)}},
    )
    world.settle()
    [(_, body)] = metric_comments(world, number)
    assert "comes from a fork" in body
    # No next step for a fork: its code is not promoted from here.
    assert "**✅ cancer candidate passes 1/1 gate vs production v1.1.0**" in body


def test_a_run_for_an_older_head_does_not_overwrite_the_comment(world: World) -> None:
    number = world.open_pr()
    world.settle()
    old_head = world.head(number)
    world.push(number, {"models/cancer/train.py": "print('newer')\n"})
    world.ci(number, evaluation_doc=evaluation(metrics={"accuracy": 0.97, "roc_auc": 0.99}))
    world.settle()
    [(_, current)] = metric_comments(world, number)
    assert "0.97" in current
    # A late run of the old head arrives after the new one.
    world.sim.create_workflow_run(
        REPO,
        name="mlbot",
        path=".github/workflows/mlbot.yml",
        head_sha=old_head,
        head_branch="improve-cancer",
        pull_numbers=[number],
        artifacts={
            "mlbot-evaluation-cancer": {
                "evaluation.json": json.dumps(evaluation(metrics={"accuracy": 0.5}))
            }
        },
    )
    world.settle()
    assert metric_comments(world, number) == [(1, current)]


def test_registry_production_wins_over_what_the_run_measured(world: World) -> None:
    # The run compared with v1.0.0, but v1.1.0 is live now: the comment says so and uses
    # v1.1.0's recorded metrics, and the verdict is judged against v1.1.0.
    doc = evaluation(production=("v1.0.0", {"accuracy": 0.93}))
    number = world.open_pr(evaluation_doc=doc)
    world.settle()
    [(_, body)] = metric_comments(world, number)
    assert "Production is v1.1.0 in the registry, but the run compared with v1.0.0" in body
    assert "| accuracy | 0.9500 | 0.9550 |" in body
