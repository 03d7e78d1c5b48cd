"""Steps on identifiers: keyed pseudonyms for user ids."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from policies.steps._base import Step
from publisher.core.errors import InternalError, PolicyError
from publisher.core.ratings import (
    USER,
    Ratings,
    present_codes,
)
from publisher.core.validation import (
    check_int,
)

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ identifiers
@dataclass(frozen=True, kw_only=True)
class PseudonymizeUsers(Step):
    """Replace user ids with keyed pseudonyms: HMAC-SHA256(key, id), hex, truncated.

    Without the key the pseudonyms cannot be recomputed from ids; with the same key
    the same id always gets the same pseudonym, so releases under one key are
    linkable and releases under different keys are not. The key is bound by the
    pipeline and is never part of the policy, its ``repr`` or a bundle.

    Parameters
    ----------
    digest_chars : int
        Hex characters kept from the 64-character digest (16 to 64; 16 = 64 bits, so
        a collision among 480,189 users has probability about 6e-9, and one is
        detected and reported rather than merging two users).
    key : bytes
        The secret key (at least 16 bytes); set by the pipeline.
    """

    name: ClassVar[str] = "pseudonymize_users"
    randomized: ClassVar[bool] = False
    digest_chars: int = 16
    key: bytes | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_int(type(self).__name__, "digest_chars", self.digest_chars, minimum=16, maximum=64)
        if self.key is not None and (not isinstance(self.key, bytes) or len(self.key) < 16):
            raise PolicyError("the pseudonymization key must be at least 16 bytes")

    def describe(self) -> str:  # noqa: D102
        return "user ids replaced by keyed HMAC-SHA256 pseudonyms (the key is not published)"

    def transform(self, ratings: Ratings, rng: np.random.Generator) -> Ratings:  # noqa: D102
        if self.key is None:
            raise InternalError("PseudonymizeUsers.transform called without a key")
        present = present_codes(ratings.frame[USER].to_numpy(), len(ratings.user_ids))
        pseudonyms = np.full(len(ratings.user_ids), "", dtype=object)
        for code in present:
            digest = hmac.new(self.key, str(ratings.user_ids[code]).encode(), hashlib.sha256)
            pseudonyms[code] = digest.hexdigest()[: self.digest_chars]
        if len(set(pseudonyms[present])) != len(present):
            raise PolicyError(
                "two users received the same pseudonym; raise pseudonymize_users.digest_chars"
            )
        return ratings.with_frame(ratings.frame, user_ids=pseudonyms, pseudonymized=True)
