"""Shared fixtures for the whole test suite."""

from __future__ import annotations

import pytest

import nablanet as nb


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seed, so it is reproducible on its own."""
    nb.set_seed(0)
    yield
