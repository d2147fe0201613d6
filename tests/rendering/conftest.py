"""The browser the rendering tests share, and the world whose real runs give the bodies."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.rendering.github_page import GitHubRenderer, chromium_missing


@pytest.fixture(scope="session")
def github_renderer() -> Iterator[GitHubRenderer]:
    """Headless Chromium rendering Markdown as GitHub does; skipped (failed in CI) without it."""
    missing = chromium_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the rendering tests need Chromium in CI: {missing}")
        pytest.skip(f"rendering in a browser needs Chromium: {missing}")
    renderer = GitHubRenderer()
    yield renderer
    renderer.close()
