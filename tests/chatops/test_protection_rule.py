"""The protection rule's callback: posted only to the one endpoint GitHub documents."""

from __future__ import annotations

import pytest

from bot.chatops.protection_rule import callback_path

API = "https://api.github.com"
GOOD = f"{API}/repos/acme/models/actions/runs/42/deployment_protection_rule"


def test_the_documented_callback_becomes_a_path_of_the_deliverys_repository() -> None:
    assert callback_path(GOOD, "acme/models", API) == (
        "/repos/acme/models/actions/runs/42/deployment_protection_rule"
    )
    ghes = "https://ghe.example/api/v3"
    assert callback_path(
        f"{ghes}/repos/acme/models/actions/runs/7/deployment_protection_rule", "acme/models", ghes
    ).endswith("/runs/7/deployment_protection_rule")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/repos/acme/models/actions/runs/42/deployment_protection_rule",
        f"{API}.evil.example/repos/acme/models/actions/runs/42/deployment_protection_rule",
        f"{API}/repos/acme/other/actions/runs/42/deployment_protection_rule",
        f"{API}/repos/acme/models/actions/runs/42/approve",
        f"{API}/repos/acme/models/actions/runs/42/../../../../user/keys",
        f"{API}/repos/acme/models/actions/runs/-1/deployment_protection_rule",
        f"{API}/repos/acme/models/actions/runs/42/deployment_protection_rule?x=1",
        f"{API}/repos/acme/models/actions/runs/42/deployment_protection_rule/extra",
    ],
)
def test_any_other_url_is_refused_and_never_called(url: str) -> None:
    # The bot posts with its installation token: a payload must not choose where.
    with pytest.raises(ValueError):
        callback_path(url, "acme/models", API)
