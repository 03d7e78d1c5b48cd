"""The cosine scorer by hand: IDF-weighted, divided by the record's norm."""

import math

import numpy as np
import pytest

from audits._index import IndexedTable
from audits.cosine import attack_cosine, idf_weights
from audits.scoreboard import AuxiliaryInformation, attack
from publisher.core.ratings import Ratings, Scale

LN2 = math.log(2)


@pytest.fixture
def indexed():
    # A {1: 5, 2: 3}; B {1: 5, 3: 2, 4: 1, 5: 1}; C {2: 4, 3: 1}; D {4: 2}: four records,
    # items 1-4 rated twice (idf ln 2), item 5 once (idf ln 4)
    users = ["A", "A", "B", "B", "B", "B", "C", "C", "D"]
    items = [1, 2, 1, 3, 4, 5, 2, 3, 4]
    values = [5, 3, 5, 2, 1, 1, 4, 1, 2]
    return IndexedTable(Ratings.from_columns(users, items, values, scale=Scale(1, 5, 1)))


def aux_for(indexed, items, values):
    codes = [list(indexed.ratings.item_ids).index(i) for i in items]
    return AuxiliaryInformation(
        targets=np.array([0]),
        items=np.array([codes], np.int32),
        rating=np.array([[v - 1 for v in values]], np.int64),
        day=np.zeros((1, len(items)), np.int64),
        length=np.array([len(items)], np.int64),
        use_dates=False,
    )


def code(indexed, user):
    return indexed.records.of_code[list(indexed.ratings.user_ids).index(user)]


def test_idf_weights_and_norms_by_hand(indexed):
    squared, scale = idf_weights(indexed)
    item = list(indexed.ratings.item_ids)
    assert squared[item.index(1)] == pytest.approx(LN2**2)
    assert squared[item.index(5)] == pytest.approx(math.log(4) ** 2)
    # ||B|| = sqrt(3 ln2^2 + ln4^2) = ln2 sqrt(7)
    assert scale[code(indexed, "B")] == pytest.approx(1 / (LN2 * math.sqrt(7)), rel=1e-6)


def test_a_long_record_sharing_an_item_by_chance_is_worth_less(indexed):
    """Known: item 1 = 5. A and B both gave it 5: Scoreboard-RH ties them; cosine divides
    by the norm: A = ln2^2 (1 + 1) / (ln2 sqrt 2) = sqrt(2) ln 2, B = 2 ln 2 / sqrt(7)."""
    aux = aux_for(indexed, [1], [5])
    truth = np.array([code(indexed, "A")])
    cosine = attack_cosine(indexed, aux, truth, 1.5)
    assert cosine.correct[0]
    assert cosine.top1_credit[0] == 1.0
    sigma = np.std([math.sqrt(2) * LN2, 2 * LN2 / math.sqrt(7), 0, 0])
    expected = (math.sqrt(2) * LN2 - 2 * LN2 / math.sqrt(7)) / sigma
    assert cosine.eccentricity[0] == pytest.approx(expected, rel=1e-5)
    published = attack(indexed, aux, truth, 1.5)
    assert published.top1_credit[0] == 0.5  # a tie: half a top-1 credit
    assert cosine.best_probability is not None  # the entropic posterior, for the other rule


def test_rating_agreement_weighs_the_item(indexed):
    # known: item 2 = 3: A gave 3 (1 + 1), C gave 4 (1 + e^{-1/1.5}); both norms ln2 sqrt 2
    aux = aux_for(indexed, [2], [3])
    outcome = attack_cosine(indexed, aux, np.array([code(indexed, "A")]), 1.5)
    a = LN2 * 2 / math.sqrt(2)
    c = LN2 * (1 + math.exp(-1 / 1.5)) / math.sqrt(2)
    sigma = np.std([a, c, 0, 0])
    assert outcome.correct[0]
    assert outcome.eccentricity[0] == pytest.approx((a - c) / sigma, rel=1e-5)
