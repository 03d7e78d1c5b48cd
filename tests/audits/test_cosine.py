"""The cosine scorers by hand: IDF-weighted, divided by the record's norm; presence and
agreement, or ratings centred by the item's mean."""

import math

import numpy as np
import pytest

from audits._index import IndexedTable
from audits.cosine import attack_cosine, attack_cosine_centered, centered_scale, idf_weights
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


# Scale positions (value - 1) and item means: item 1 {A 4, B 4} 4; item 2 {A 2, C 3} 2.5;
# item 3 {B 1, C 0} 0.5; item 4 {B 0, D 1} 0.5; item 5 {B 0} 0. Centred: A (0, -0.5);
# B (0, +0.5, -0.5, 0); C (+0.5, -0.5); D (+0.5). Norms (no IDF weight): A = D = 1/2,
# B = C = 1 / sqrt 2.


def test_centred_item_means_and_norms_by_hand(indexed):
    mean, scale = centered_scale(indexed)
    item = list(indexed.ratings.item_ids)
    assert [mean[item.index(i)] for i in (1, 2, 3, 4, 5)] == [4.0, 2.5, 0.5, 0.5, 0.0]
    assert scale[code(indexed, "A")] == pytest.approx(2, rel=1e-6)
    assert scale[code(indexed, "B")] == pytest.approx(math.sqrt(2), rel=1e-6)


def test_the_centred_cosine_rewards_the_same_departure_from_the_crowd(indexed):
    """Known: item 2 = 4, item 3 = 1 (C's record, centred +0.5, -0.5). A departs the other
    way on item 2 (-1/2), B on item 3 (-1 / (2 sqrt 2)), C both ways alike (1 / sqrt 2);
    D shares nothing (0)."""
    aux = aux_for(indexed, [2, 3], [4, 1])
    truth = np.array([code(indexed, "C")])
    outcome = attack_cosine_centered(indexed, aux, truth, 1.5)
    scores = np.array([-0.5, -1 / (2 * math.sqrt(2)), 1 / math.sqrt(2), 0.0])
    assert outcome.correct[0]
    assert outcome.top1_credit[0] == 1.0
    assert outcome.eccentricity[0] == pytest.approx((scores[2] - 0.0) / scores.std(), rel=1e-5)


def test_the_centred_cosine_penalises_the_opposite_departure(indexed):
    """Known: item 2 = 3 (below its mean 2.5 + 1): A, who gave 3, scores +1/2; C, who gave
    4, scores -1 / (2 sqrt 2) although both rated the item (presence ties them)."""
    aux = aux_for(indexed, [2], [3])
    truth = np.array([code(indexed, "A")])
    outcome = attack_cosine_centered(indexed, aux, truth, 1.5)
    scores = np.array([0.5, 0.0, -1 / (2 * math.sqrt(2)), 0.0])
    assert outcome.correct[0]
    assert outcome.eccentricity[0] == pytest.approx((scores[0] - 0.0) / scores.std(), rel=1e-5)


def test_the_centred_cosine_reads_items_every_record_rated():
    """Two customers who rated the same two items: presence (idf 0) cannot tell them
    apart, how their ratings depart from the items' means can."""
    users, items, values = ["A", "A", "B", "B"], [1, 2, 1, 2], [5, 1, 1, 5]
    table = IndexedTable(Ratings.from_columns(users, items, values, scale=Scale(1, 5, 1)))
    aux = aux_for(table, [1, 2], [5, 1])
    truth = np.array([code(table, "A")])
    assert attack_cosine(table, aux, truth, 1.5).top1_credit[0] == 0.0  # idf 0: no score
    centred = attack_cosine_centered(table, aux, truth, 1.5)
    assert centred.correct[0]
    assert centred.top1_credit[0] == 1.0
