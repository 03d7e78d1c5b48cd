"""The policy-aware likelihood scorer, its posterior computed by hand on tiny tables.

Table (1-5 stars): record A rated item 1 = 5 and item 2 = 3; B rated item 1 and item 3;
C rated items 2 and 3. Six ratings, every item rated twice (share 1/3), every record of
length 2: the chance a record holds an item by chance is q = 1 - (2/3)^2 = 5/9.
"""

import math

import numpy as np
import pytest

from audits._index import IndexedTable
from audits.likelihood import MIN_WRONG_RATE, attack_likelihood
from audits.scoreboard import AuxiliaryInformation
from publisher.core.channel import Channel
from publisher.core.ratings import Ratings, Scale

OMEGA = MIN_WRONG_RATE  # no wrong items declared: the floor
Q = 5 / 9


def table(b_rating=5, days=None, c_rating=4):
    ratings = Ratings.from_columns(
        ["A", "A", "B", "B", "C", "C"],
        [1, 2, 1, 3, 2, 3],
        [5, 3, b_rating, 2, c_rating, 1],
        days,
        scale=Scale(1, 5, 1),
    )
    return IndexedTable(ratings)


def knowledge(indexed, items, values, days=None, wrong_rate=0.0):
    codes = [list(indexed.ratings.item_ids).index(i) for i in items]
    positions = [indexed.ratings.scale.to_index(np.array([v]))[0] for v in values]
    m = len(items)
    return AuxiliaryInformation(
        targets=np.array([0]),
        items=np.array([codes], np.int32),
        rating=np.array([positions], np.int64),
        day=np.array([days or [0] * m], np.int64),
        length=np.array([m], np.int64),
        use_dates=days is not None,
        wrong_rate=wrong_rate,
    )


def record(indexed, user):
    return indexed.records.of_code[list(indexed.ratings.user_ids).index(user)]


def posterior(indexed, aux, channel=None, truth="A"):
    outcome = attack_likelihood(
        indexed, aux, np.array([record(indexed, truth)]), 1.5, channel=channel or Channel()
    )
    return outcome


def rated(f):
    """The factor of a record that rated the known item, with value-and-date ratio f."""
    return OMEGA + (1 - OMEGA) * (1 / Q) * f


def test_two_records_that_agree_share_the_posterior():
    # known: item 1 = 5. A and B both gave 5: f = P(5 | 5) / P(5 among item 1) = 1 / (5/9)
    # (smoothed background: (2 + 0.5) / (2 + 2.5)). C did not rate item 1: its factor is
    # (1 - (1 - omega) - omega q) / (1 - q) = omega.
    indexed = table()
    lr = rated(9 / 5)
    outcome = posterior(indexed, knowledge(indexed, [1], [5]))
    assert outcome.best_probability[0] == pytest.approx(lr / (2 * lr + OMEGA), rel=1e-6)
    assert outcome.rule == "posterior"
    assert not outcome.claims[0]
    assert outcome.true_probability[0] == pytest.approx(lr / (2 * lr + OMEGA), rel=1e-6)


def test_randomized_response_weighs_a_changed_value_by_its_chance():
    # B released 4: with keep 0.6 on 5 values, P(4 | known 5) = 0.4 / 4 = 0.1; item 1's
    # background is (1 + 0.5) / 4.5 = 1/3 for both 5 and 4.
    indexed = table(b_rating=4)
    channel = Channel(keep_probability=0.6)
    lr_a, lr_b = rated(0.6 * 3), rated(0.1 * 3)
    expected = lr_a / (lr_a + lr_b + OMEGA)
    outcome = posterior(indexed, knowledge(indexed, [1], [5]), channel)
    assert outcome.best_probability[0] == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.8567, abs=1e-4)
    assert outcome.correct[0]
    # the same data read as exact ratings: B's 4 cannot be the target's 5 (floored at 1e-12)
    exact = posterior(indexed, knowledge(indexed, [1], [5]))
    lr_a_exact, lr_b_exact = rated(1 * 3), rated(1e-12 * 3)
    expected = lr_a_exact / (lr_a_exact + lr_b_exact + OMEGA)
    assert exact.best_probability[0] == pytest.approx(expected, rel=1e-6)


def test_a_sample_is_a_prior_that_the_target_is_absent():
    # half the customers released: the absent case weighs (1 - 1/2) / (1/2) * 3 records = 3
    indexed = table(b_rating=4)
    channel = Channel(keep_probability=0.6, sample=0.5)
    lr_a, lr_b = rated(1.8), rated(0.3)
    outcome = posterior(indexed, knowledge(indexed, [1], [5]), channel)
    assert outcome.best_probability[0] == pytest.approx(lr_a / (lr_a + lr_b + OMEGA + 3), rel=1e-6)


def test_two_known_items_multiply():
    # known: item 1 = 5 and item 2 = 3 (A's own). A rated both (f = 9/5 for item 1; item
    # 2's 3 is one of two values there: 1 / (1.5 / 4.5) = 3); B rated item 1 only (factor
    # omega for item 2), C item 2 only (it gave 4, not 3: f = 1e-12 / (1.5 / 4.5)).
    indexed = table()
    lr_a = rated(9 / 5) * rated(3)
    lr_b = rated(9 / 5) * OMEGA
    lr_c = OMEGA * rated(1e-12 * 3)
    outcome = posterior(indexed, knowledge(indexed, [1, 2], [5, 3]))
    expected = lr_a / (lr_a + lr_b + lr_c)
    assert outcome.best_probability[0] == pytest.approx(expected, rel=1e-6)
    assert outcome.claims[0]
    assert outcome.correct[0]


def test_a_declared_wrong_item_rate_forgives_a_missing_item():
    indexed = table()
    omega = 0.25
    lr_a = (omega + (1 - omega) / Q * 9 / 5) * (omega + (1 - omega) / Q * 3)
    lr_b = (omega + (1 - omega) / Q * 9 / 5) * omega  # misses item 2: (1-(1-w)-wq)/(1-q) = w
    lr_c = omega * (omega + (1 - omega) / Q * 1e-12 * 3)
    outcome = posterior(indexed, knowledge(indexed, [1, 2], [5, 3], wrong_rate=omega))
    assert outcome.best_probability[0] == pytest.approx(lr_a / (lr_a + lr_b + lr_c), rel=1e-6)


def test_coarsened_dates_match_by_period_membership():
    """Dates released to the month: a record whose date is the known day's month start is
    as good as the day itself, however far from the first of the month the day is; a
    record dated another month is all but ruled out."""
    jan_1 = 13149  # 2006-01-01
    feb_1 = jan_1 + 31
    # A: item 1 on 2006-01-01 (its month), B: item 1 on 2006-02-01
    days = [jan_1, jan_1, feb_1, feb_1, jan_1, feb_1]
    indexed = table(days=days)
    month = Channel(period="month")
    late = posterior(indexed, knowledge(indexed, [1], [5], days=[jan_1 + 27]), month)
    early = posterior(indexed, knowledge(indexed, [1], [5], days=[jan_1 + 1]), month)
    assert late.best_probability[0] == pytest.approx(early.best_probability[0], rel=1e-9)
    assert late.correct[0]
    assert late.best_probability[0] > 0.99
    # scored as exact days (no coarsening declared), the same release looks 27 days off
    exact = posterior(indexed, knowledge(indexed, [1], [5], days=[jan_1 + 27]))
    assert exact.best_probability[0] < late.best_probability[0]


def test_an_exact_date_weighs_the_match_and_another_date_all_but_rules_it_out():
    """Known: item 1 = 5 on day 10,000, the date exact. A rated it that day: its factor
    f = 9/5 (the value) x 1 / P(day 10,000) (the date); the background is smoothed over
    the release's days padded by 370 (9,630 to 10,473, 844 days): (1 + 0.5) / (6 + 422).
    B rated it 100 days later, outside the window: 9/5 x e^-23. C never rated it."""
    days = [10_000, 10_001, 10_100, 10_101, 10_102, 10_103]
    indexed = table(days=days)
    outcome = posterior(indexed, knowledge(indexed, [1], [5], days=[10_000]))
    lr_a = rated(9 / 5 * 428 / 1.5)
    lr_b = rated(9 / 5 * math.exp(-23))
    assert outcome.best_probability[0] == pytest.approx(lr_a / (lr_a + lr_b + OMEGA), rel=1e-6)
    assert outcome.claims[0]
    assert outcome.correct[0]
    # half the ratings deleted: a rating survives with s = 1/2, and a record without the
    # item is less suspect, (1 - (1 - omega) s - omega q) / (1 - q)
    halved = posterior(indexed, knowledge(indexed, [1], [5], days=[10_000]), Channel(deletion=0.5))
    s = 0.5
    lr_a = OMEGA + (1 - OMEGA) * s / Q * 9 / 5 * 428 / 1.5
    lr_b = OMEGA + (1 - OMEGA) * s / Q * 9 / 5 * math.exp(-23)
    lr_c = (1 - (1 - OMEGA) * s - OMEGA * Q) / (1 - Q)
    expected = lr_a / (lr_a + lr_b + lr_c)
    assert halved.best_probability[0] == pytest.approx(expected, rel=1e-6)


def test_posterior_uses_log_likelihood_ratios_as_scores():
    indexed = table(b_rating=4)
    outcome = posterior(indexed, knowledge(indexed, [1], [5]), Channel(keep_probability=0.6))
    # the eccentricity rule reads the same scores: (log LR_A - log LR_B) / sd over records
    scores = np.log([rated(1.8), rated(0.3), OMEGA])
    assert outcome.eccentricity[0] == pytest.approx(
        (scores[0] - scores[1]) / scores.std(), rel=1e-6
    )
    assert math.isclose(outcome.threshold, 0.9)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    "channel",
    [Channel(), Channel(keep_probability=0.6, period="month", cap=10, sample=0.5)],
    ids=["identity", "policy"],
)
def test_whole_table_and_touched_records_give_the_same_posterior(seed, channel):
    """Targets whose items reach a quarter of the records are scored over the whole table
    in order, the others over the records they touch: the figures agree to rounding."""
    from publisher.core import Adversary

    from tests.audits.builders import drawn_knowledge, random_table

    indexed = IndexedTable(random_table(seed))
    adversary = Adversary(known_items=3, rating_tolerance=1, date_tolerance_days=7)
    aux, truth = drawn_knowledge(indexed, adversary, 20, seed)
    truth[0] = -1  # a control target
    runs = [
        attack_likelihood(indexed, aux, truth, 1.5, channel=channel, dense_share=share)
        for share in (0.0, float("inf"))
    ]
    dense, sparse = runs
    assert (dense.correct == sparse.correct).all()
    np.testing.assert_allclose(dense.eccentricity, sparse.eccentricity, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dense.true_probability, sparse.true_probability, rtol=1e-9)
    np.testing.assert_allclose(dense.best_probability, sparse.best_probability, rtol=1e-9)
    np.testing.assert_allclose(dense.top1_credit, sparse.top1_credit)
