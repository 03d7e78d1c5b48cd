"""Privacy-auditing publisher for ratings datasets."""

from publisher.errors import PublisherError
from publisher.io import read_ratings
from publisher.ratings import Ratings, Scale

__version__ = "0.1.0"

__all__ = ["PublisherError", "Ratings", "Scale", "__version__", "read_ratings"]
