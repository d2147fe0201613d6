"""The harness itself: a seeded registry in the simulator and a bot that answers webhooks."""

from __future__ import annotations

from tests.e2e.conftest import World


def test_the_model_repository_is_seeded_with_a_registry(world: World) -> None:
    assert world.live("cancer") == {"staging": "v1.2.0", "production": "v1.1.0"}
    assert "cancer@v1.2.0" in world.tags("cancer")
    assert world.registry_log()[0].startswith("registry: register churn v0.1.0")
    world.settle()
