"""Fixtures shared across the test packages."""

from __future__ import annotations

import pytest

from tests import mlflow_server as _mlflow


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """The URI of a real MLflow tracking server with a model registry (one per session)."""
    if not _mlflow.MLFLOW.exists():
        pytest.skip("mlflow is not installed (ml extra)")
    with _mlflow.running(tmp_path_factory.mktemp("mlflow")) as uri:
        yield uri
