"""``publisher tune``: search a space of policies for the most useful one that passes the gate."""

from publisher.tuning.run import NoRecommendationError, TuneRun, tune
from publisher.tuning.space import DEFAULT_SPACE, Space, load_space, parse_space

__all__ = [
    "DEFAULT_SPACE",
    "NoRecommendationError",
    "Space",
    "TuneRun",
    "load_space",
    "parse_space",
    "tune",
]
