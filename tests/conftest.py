"""Shared fixtures: paths to the bundled real sample files (see tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
DEMO = DATA / "demo"
BAD = DATA / "bad"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def demo() -> Path:
    return DEMO


@pytest.fixture(scope="session")
def bad() -> Path:
    return BAD
