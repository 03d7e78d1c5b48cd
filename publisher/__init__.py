"""Privacy-auditing publisher for ratings datasets."""

from publisher.core.errors import PublisherError
from publisher.core.ratings import Ratings, Scale
from publisher.io import read_ratings

__version__ = "0.1.0"

__all__ = ["PublisherError", "Ratings", "Scale", "__version__", "read_ratings"]
