import pytest

from publisher.readers import read_ratings

from tests.conftest import shared


@pytest.fixture(scope="session")
def ml100k():
    """MovieLens 100K, read once for all audit tests (read in place from ../shared)."""
    return read_ratings(shared("movielens-100k/u.data"))
