"""Privacy-auditing publisher for ratings datasets.

The names below are loaded on first use (PEP 562), so importing a light module such as
``publisher.core`` (as ``policies`` and ``audits`` do) does not load the readers and
their compiled kernels.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "PublisherError": "publisher.core.errors",
    "Ratings": "publisher.core.ratings",
    "Scale": "publisher.core.ratings",
    "Adversary": "publisher.core.adversary",
    "read_ratings": "publisher.readers",
    "read_frame": "publisher.readers.parquet",
    "audit": "publisher.api",
    "release": "publisher.api",
    "verify": "publisher.api",
    "load_policy": "policies",
    "Evaluation": "publisher.engine.evaluate",
    "ReleaseRejectedError": "publisher.core.errors",
}

__all__ = [
    "Adversary",
    "Evaluation",
    "PublisherError",
    "Ratings",
    "ReleaseRejectedError",
    "Scale",
    "__version__",
    "audit",
    "load_policy",
    "read_frame",
    "read_ratings",
    "release",
    "verify",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'publisher' has no attribute {name!r}")
