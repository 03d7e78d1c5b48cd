"""The small core every layer shares: the Ratings table, Scale, the Adversary, errors.

``policies`` and ``audits`` import this package and nothing else of ``publisher``; it
imports nothing else of the project, and no heavy dependency at import (numba compiles
its kernels on first call, :mod:`publisher.core.jit`; no diffprivlib, scikit-learn,
scipy.stats, matplotlib or jinja2), so ``import policies`` stays fast (about 0.35 s,
nearly all of it pandas, which loads pyarrow when installed). ``tests/test_import_weight.py``
pins what each package may load.
"""

from publisher.core.adversary import (
    DEFAULT_ADVERSARIES,
    DEFAULT_KNOWN_ITEMS,
    DEFAULT_PHI,
    DEFAULT_TARGETS,
    KNOWLEDGE_MODELS,
    MIN_TARGETS,
    Adversary,
)
from publisher.core.errors import (
    AuditFailedError,
    BudgetExceededError,
    BundleVerificationError,
    InputError,
    InternalError,
    PolicyError,
    PrivacyLeakWarning,
    PublisherError,
    ReleaseRejectedError,
)
from publisher.core.ratings import Ratings, Scale

__all__ = [
    "DEFAULT_ADVERSARIES",
    "DEFAULT_KNOWN_ITEMS",
    "DEFAULT_PHI",
    "DEFAULT_TARGETS",
    "KNOWLEDGE_MODELS",
    "MIN_TARGETS",
    "Adversary",
    "AuditFailedError",
    "BudgetExceededError",
    "BundleVerificationError",
    "InputError",
    "InternalError",
    "PolicyError",
    "PrivacyLeakWarning",
    "PublisherError",
    "Ratings",
    "ReleaseRejectedError",
    "Scale",
]
