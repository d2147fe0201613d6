"""The model card `mlbot model-card` writes, from a real run, rendered as GitHub renders it.

The example repository is trained (MLflow, real scikit-learn), evaluated,
registered and promoted with the CLI; the card of the production version is
written twice: with that version's own evaluation, and with a later
candidate's, which the card must leave out rather than pass off as its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.ml.example import MODEL, git, materialize
from tests.rendering.github_page import GitHubRenderer, Rendered


def mlbot(repo: Path, *args: str) -> int:
    return main([*args, "--repo", str(repo)])


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    repo = materialize(tmp_path_factory.mktemp("card") / "repo")
    assert mlbot(repo, "train", MODEL) == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "train v1")
    assert mlbot(repo, "evaluate", MODEL, "--out", str(repo / "own.json")) == 0
    assert (
        mlbot(repo, "registry", "register", MODEL, "--candidate", str(repo / "candidate.json")) == 0
    )
    assert mlbot(repo, "registry", "promote", MODEL, "v0.1.0", "--to", "staging") == 0
    assert mlbot(repo, "registry", "promote", MODEL, "v0.1.0", "--to", "production") == 0
    out = {}
    assert mlbot(repo, "model-card", MODEL, "--evaluation", str(repo / "own.json")) == 0
    out["own"] = (repo / "MODEL_CARD.md").read_text()
    # A later candidate (other params), evaluated against v0.1.0.
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("C: 0.05", "C: 1.0"))
    git(repo, "commit", "-q", "-am", "C=1.0")
    assert mlbot(repo, "train", MODEL) == 0
    assert mlbot(repo, "evaluate", MODEL, "--out", str(repo / "later.json")) == 0
    later = json.loads((repo / "later.json").read_text())
    assert later["production"]["version"] == "v0.1.0"
    assert mlbot(repo, "model-card", MODEL, "--evaluation", str(repo / "later.json")) == 0
    out["other"] = (repo / "MODEL_CARD.md").read_text()
    out["root"] = str(repo)
    return out


@pytest.fixture(scope="module")
def own(cards: dict[str, str], github_renderer: GitHubRenderer) -> Rendered:
    return github_renderer.render(cards["own"])


def test_the_model_card_renders_whole_and_names_the_version_first(
    cards: dict[str, str], own: Rendered
) -> None:
    assert own.problems() == []
    assert own.first_line() == f"Model card: {MODEL} v0.1.0"
    headers = own.table_headers()
    assert headers[0] == ["About", "Value"]
    assert ["Metric", "Value", "Measured on", "Gate"] in headers
    assert ["Item", "Value"] in headers
    # Parameters collapsed; no runner path anywhere.
    assert own.summaries() == ["Parameters"] and own.open_details() == []
    assert cards["root"] not in own.markdown and "/tmp/" not in own.markdown


def test_every_metric_says_which_data_set_it_was_measured_on(own: Rendered) -> None:
    rows = own.page.evaluate(
        """() => { const t = [...document.querySelectorAll('article table')].find(t =>
             t.querySelector('th')?.innerText.trim() === 'Metric');
           return [...t.querySelectorAll('tbody tr')].map(r =>
             [...r.children].map(c => c.innerText.trim())); }"""
    )
    measured = {name: where for name, _, where, _ in rows}
    assert measured["accuracy"] == "holdout"
    assert measured["train_accuracy"] == "training data"
    assert measured["cv_accuracy"].startswith("cross-validation")
    assert all(where for where in measured.values()), measured


def test_the_card_shows_only_its_own_versions_evaluation(
    cards: dict[str, str], own: Rendered, github_renderer: GitHubRenderer
) -> None:
    headings = own.page.evaluate(
        "() => [...document.querySelectorAll('article h2')].map(h => h.innerText.trim())"
    )
    assert "Evaluation of v0.1.0" in headings
    other = github_renderer.render(cards["other"])
    assert other.problems() == []
    text = other.text
    assert "Evaluation of" not in text
    assert "The evaluation given is of another artifact" in text
