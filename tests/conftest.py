"""Shared fixtures: real datasets from ../shared/data (skipped where absent) and tiny tables."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from publisher.core.ratings import Ratings, Scale
from publisher.engine.keys import Keys

REPO = Path(__file__).resolve().parents[1]
#: An organizer key for tests that seed a release: a seed without a key is refused
#: when the policy draws noise (the seed would give the noise away).
TEST_KEY = b"publisher-tests-key-not-a-secret"
#: Its subkeys: what the engine's functions take (the raw key stops at the boundary).
TEST_KEYS = Keys.derive(TEST_KEY)
KEYED = {"PUBLISHER_KEY": TEST_KEY.decode()}
# The mutation run copies the project into mutants/; it points here at the real data.
SHARED_DATA = Path(os.environ.get("PUBLISHER_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared(relative: str) -> Path:
    """A file under ../shared/data, or skip: licensed data is read in place, never copied."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{path} not present (licensed data is read from ../shared/data, not shipped)")
    return path


@pytest.fixture
def tiny() -> Ratings:
    """Five users, four items, 1-5 stars, with dates (days since 1970)."""
    users = ["a", "a", "a", "b", "b", "c", "c", "c", "d", "e"]
    items = [1, 2, 3, 1, 2, 1, 3, 4, 4, 1]
    ratings = [5, 3, 4, 5, 2, 1, 4, 4, 2, 3]
    days = [13000, 13010, 13020, 13001, 13500, 12000, 12040, 12100, 13333, 13100]
    return Ratings.from_columns(users, items, ratings, days, scale=Scale(1, 5, 1), source="tiny")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
