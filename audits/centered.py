"""The length-centred scorer: Scoreboard-RH minus what a record of its length scores by chance.

Scoreboard-RH's score grows with a record's length: a heavy rater (thousands of
ratings) shares some of any adversary's items and collects a high score whoever the
target is. On data with many heavy raters the target is crowded out, and removing them
(``cap_user_ratings``) can make the same attack do better on the release than on the
original. The centred score is robust to that:

    Centred(aux, r) = Score(aux, r) - |r| * sum over i in supp(aux) of wt(i) * S_i / R

with Score and wt(i) as in Scoreboard-RH (:mod:`audits.scoreboard`), |r| the number of
ratings of record r, R the number of ratings in the table and S_i the sum, over all of
item i's ratings, of their similarity to the known rating of i. The subtracted term is
the expected Scoreboard-RH score of a record of length |r| whose ratings were drawn at
random from the table. The claim rule is Scoreboard-RH's: the best record is claimed
when its eccentricity (best - second) / sigma, over all records, reaches phi.
"""

from __future__ import annotations

import numba
import numpy as np

from audits._centered import centered_scoreboard
from audits._index import IndexedTable
from audits._kernels import DENSE_SHARE
from audits.scoreboard import (
    AttackOutcome,
    AuxiliaryInformation,
    outcome_of,
    similarity_tables,
)

__all__ = ["attack_centered"]


def attack_centered(
    table: IndexedTable,
    aux: AuxiliaryInformation,
    true_records: np.ndarray,
    phi: float,
    *,
    dense_share: float = DENSE_SHARE,
) -> AttackOutcome:
    """Run the centred scorer of ``aux`` against every record of ``table``.

    Parameters and result as :func:`audits.scoreboard.attack`.
    """
    rating_sim, date_sim = similarity_tables(table, aux, true_records)
    index = table.by_item
    lengths, by_length, distinct, count, slot = table.length_buckets
    scored = centered_scoreboard(
        index.ptr,
        index.other,
        index.rating,
        index.day,
        table.weights,
        lengths,
        by_length,
        distinct,
        count,
        slot,
        aux.items,
        aux.rating,
        aux.day,
        aux.length,
        aux.use_dates and index.has_dates,
        rating_sim,
        date_sim,
        true_records.astype(np.int64),
        8 * numba.get_num_threads(),
        dense_share,
    )
    return outcome_of(scored, true_records, phi, top_must_be_positive=False)
