"""Fixtures for supply-chain tests: the real Trivy and cosign files beside the repo.

They live in `../shared/fixtures` (never copied into the repository); when that
directory is absent the tests that need it skip and say why.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"


def fixture_dir(kind: str) -> Path:
    path = FIXTURES / kind
    if not path.is_dir():
        pytest.skip(f"../shared/fixtures not present: {path} is missing (CI always has it)")
    return path


@pytest.fixture
def trivy_dir() -> Path:
    return fixture_dir("trivy")


@pytest.fixture
def cosign_dir() -> Path:
    return fixture_dir("cosign")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def flip(data: bytes, index: int) -> bytes:
    """The same bytes with one byte changed (every bit of it)."""
    out = bytearray(data)
    out[index] ^= 0xFF
    return bytes(out)
