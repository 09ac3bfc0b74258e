"""Shared fixtures and settings for the whole test suite."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

import nablanet as nb

# Property-based tests draw the same examples on every run (CI must not flake); set
# NABLANET_HYPOTHESIS_EXPLORE=1 to let hypothesis search new examples locally.
settings.register_profile("deterministic", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(
    "explore" if os.environ.get("NABLANET_HYPOTHESIS_EXPLORE") else "deterministic"
)


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test starts from the same global seed, so it is reproducible on its own."""
    nb.set_seed(0)
    yield
