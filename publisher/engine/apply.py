"""Applying a policy's steps in order, each with its own random generator, and what each did."""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from policies import Policy
from publisher.core.errors import (
    InternalError,
)
from publisher.core.ratings import (
    Ratings,
)
from publisher.engine.keys import Keys, pseudonym_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepRecord:
    """What one step did: its configuration, its own description, the sizes before and after."""

    name: str
    config: dict[str, Any]
    description: str
    before: dict[str, int]
    after: dict[str, int]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the datasheet and report."""
        return dataclasses.asdict(self)


def apply_policy(
    ratings: Ratings,
    policy: Policy,
    *,
    key: Keys | None,
    seed: np.random.SeedSequence,
    release: str = "",
) -> tuple[Ratings, list[StepRecord]]:
    """Apply the policy's steps in order, each with its own random generator.

    Parameters
    ----------
    ratings : Ratings
        The original table (never modified).
    policy : Policy
    key : bytes or None
        The pseudonymization key; None draws a fresh random one that is discarded.
    seed : numpy.random.SeedSequence
        The steps' share of the pipeline's randomness.
    release : str
        The release id (:func:`publisher.engine.keys.release_id`): per-release
        pseudonyms are derived from it.

    Returns
    -------
    (Ratings, list of StepRecord)
    """
    children = seed.spawn(len(policy.steps))
    records = []
    current = ratings
    for step, child in zip(policy.steps, children, strict=True):
        if step.needs_key:
            # The step gets a pseudonym subkey, never the organizer's key itself (see
            # publisher.engine.keys): no pseudonym can then reveal the manifest signing key.
            release_id = release or secrets.token_hex(16)
            step = step.with_key(pseudonym_key(key, release_id, linkable=step.stable_key))
        before = current.counts()
        started = time.perf_counter()
        current = step.transform(current, np.random.default_rng(child))
        after = current.counts()
        if not step.changes_rows and after["ratings"] != before["ratings"]:
            raise InternalError(f"{step.name} changed the row count without declaring it")
        records.append(
            StepRecord(
                step.name,
                step.to_config(),
                step.describe(),
                before,
                after,
                time.perf_counter() - started,
            )
        )
        logger.info(
            "step %-20s ratings %d -> %d, users %d -> %d, items %d -> %d",
            step.name,
            before["ratings"],
            after["ratings"],
            before["users"],
            after["users"],
            before["items"],
            after["items"],
        )
    return current, records
