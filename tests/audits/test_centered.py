"""The centred scorer: its kernel against a plain numpy reference, and why it exists."""

import numpy as np
import pytest

from audits._index import IndexedTable
from audits.centered import attack_centered
from audits.scoreboard import D0, RHO0, attack
from publisher.core import Adversary
from publisher.core.ratings import Ratings, Scale

from tests.audits.builders import drawn_knowledge, random_table


def reference(table, aux, true_records):
    """Every record's centred score computed densely from the formula, then the figures."""
    index = table.by_item
    lengths = table.by_record.support().astype(float)
    total = lengths.sum()
    weights = table.weights
    step = table.ratings.scale.step
    out = []
    for t in range(len(aux.items)):
        score = np.zeros(table.records.n)
        c = 0.0
        for j in range(aux.length[t]):
            item = aux.items[t, j]
            lo, hi = index.ptr[item], index.ptr[item + 1]
            sim = np.exp(-np.abs(index.rating[lo:hi].astype(int) - aux.rating[t, j]) * step / RHO0)
            if aux.use_dates and index.has_dates:
                gap = np.minimum(np.abs(index.day[lo:hi].astype(int) - aux.day[t, j]), 4095)
                sim = sim + np.exp(-gap / D0)
            score[index.other[lo:hi]] += weights[item] * sim
            c += weights[item] * sim.sum()
        centred = score - lengths * c / total
        order = np.argsort(-centred, kind="stable")
        top, second = centred[order[0]], centred[order[1]]
        sd = centred.std()
        best = int(np.flatnonzero(centred == top).min())
        p = np.exp((centred - top) / sd)
        p /= p.sum()
        tr = true_records[t]
        out.append((best, top, second, sd, p[tr] if tr >= 0 else 0.0))
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dates", [True, False])
@pytest.mark.parametrize("dense_share", [0.0, float("inf")], ids=["whole-table", "touched"])
def test_kernel_matches_the_dense_reference(seed, dates, dense_share):
    table = IndexedTable(random_table(seed))
    adversary = Adversary(known_items=3, rating_tolerance=1,
                          date_tolerance_days=7 if dates else None)  # fmt: skip
    aux, truth = drawn_knowledge(table, adversary, 20, seed)
    truth[0] = -1  # one control target: no true record
    got = attack_centered(table, aux, truth, 1.5, dense_share=dense_share)
    for t, (best, top, second, sd, p_true) in enumerate(reference(table, aux, truth)):
        assert got.eccentricity[t] == pytest.approx((top - second) / sd, rel=1e-5, abs=1e-9)
        assert got.true_probability[t] == pytest.approx(p_true, rel=1e-5, abs=1e-12)
        if truth[t] >= 0:
            assert got.correct[t] == (best == truth[t])


def test_a_heavy_rater_no_longer_crowds_out_the_target():
    """The adversary knows four items of customer a, two of them wrongly (a never rated
    items 2 and 3). The heavy rater h rated everything: Scoreboard-RH scores h 2.52 w
    (two inexact matches at 0.26, two exact) against a's 2 w (two exact) and names h;
    the centred score takes h's 200 ratings into account (about 1.6 w by chance) and
    names a. (w = 1 / ln 2 for items with two raters.)"""
    n_items = 200
    heavy = [("h", i, 3, 10_000) for i in range(n_items)]
    light = [("a", 0, 5, 10_000), ("a", 1, 1, 10_000), ("b", 2, 4, 10_000), ("b", 3, 2, 10_000)]
    fillers = [(f"f{k}", i, 3, 10_000) for k in range(40) for i in range(4 + k % 5, 200, 17)]
    rows = heavy + light + fillers
    table = IndexedTable(Ratings.from_columns(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
        np.array([r[3] for r in rows]), scale=Scale(1, 5, 1),
    ))  # fmt: skip
    from audits.scoreboard import AuxiliaryInformation

    a = table.ratings.user_ids.tolist().index("a")
    aux = AuxiliaryInformation(
        targets=np.array([a]), items=np.array([[0, 1, 2, 3]], np.int32),
        rating=np.array([[4, 0, 2, 2]]),  # scale positions: ratings 5, 1, 3, 3
        day=np.full((1, 4), 10_000), length=np.array([4]), use_dates=False,
    )  # fmt: skip
    truth = table.records.of_code[[a]].astype(np.int64)
    heavy_record = table.records.of_code[table.ratings.user_ids.tolist().index("h")]
    plain = attack(table, aux, truth, 1.5)
    centred = attack_centered(table, aux, truth, 1.5)
    assert not plain.correct[0]  # Scoreboard-RH's best record is the heavy rater
    assert plain.top1_credit[0] < 1
    assert centred.correct[0]
    assert heavy_record != truth[0]


def test_scoreboard_rating_similarity_follows_the_scale_step():
    """On a half-star scale one step is half a star: exp(-0.5 / 1.5), not exp(-1 / 1.5)."""
    rows = [("a", 1, 4.5), ("a", 2, 2.0), ("b", 1, 4.0), ("b", 3, 1.0), ("c", 2, 2.0),
            ("c", 3, 5.0), ("d", 4, 3.0)]  # fmt: skip
    ratings = Ratings.from_columns([r[0] for r in rows], [r[1] for r in rows],
                                   [r[2] for r in rows], scale=Scale(0.5, 5, 0.5))  # fmt: skip
    table = IndexedTable(ratings)
    from audits.scoreboard import AuxiliaryInformation

    # known: item 1 rated 4.5 (a's value; b's is one half-star step away)
    item = int(np.searchsorted(ratings.item_ids, 1))
    aux = AuxiliaryInformation(
        targets=np.array([0]), items=np.array([[item]], np.int32),
        rating=np.array([[ratings.scale.to_index(np.array([4.5]))[0]]]),
        day=np.zeros((1, 1), int), length=np.array([1]), use_dates=False,
    )  # fmt: skip
    truth = table.records.of_code[[0]].astype(np.int64)
    out = attack(table, aux, truth, 1.5)
    w = table.weights[item]
    scores = np.array([w * 1.0, w * np.exp(-0.5 / RHO0), 0.0, 0.0])  # a, b, c, d
    expected = (scores[0] - scores[1]) / scores.std()
    assert out.eccentricity[0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("dense_share", [0.0, float("inf")], ids=["whole-table", "touched"])
def test_kernel_matches_the_reference_over_several_blocks(dense_share):
    """9,000 records: the whole-table path looks for the top two block by block (4,096
    records a block) and passes over blocks below the second best; same figures."""
    table = IndexedTable(random_table(7, n_users=9000, n_items=300))
    adversary = Adversary(known_items=4, rating_tolerance=1, date_tolerance_days=7)
    aux, truth = drawn_knowledge(table, adversary, 15, 7)
    got = attack_centered(table, aux, truth, 1.5, dense_share=dense_share)
    for t, (best, top, second, sd, p_true) in enumerate(reference(table, aux, truth)):
        assert got.eccentricity[t] == pytest.approx((top - second) / sd, rel=1e-5, abs=1e-9)
        assert got.true_probability[t] == pytest.approx(p_true, rel=1e-5, abs=1e-12)
        assert got.correct[t] == (best == truth[t])
    assert got.correct.any()  # the true record wins somewhere: the best is found, not assumed


@pytest.mark.parametrize("dense_share", [0.0, float("inf")], ids=["dense", "sparse"])
def test_a_correct_best_match_always_gets_its_top1_credit(dense_share):
    # Issue 25.5: the centred scorer's top1 (0.967) fell below its own reidentified rate
    # (0.993): the true record's score was centred by another expression than the scan's,
    # so float rounding kept it from equalling the top it was.
    from audits.linkage import attack_unprotected
    from publisher.core.adversary import Adversary
    from publisher.demo import demo_data
    from publisher.readers import read_ratings

    table = IndexedTable(read_ratings(demo_data()))
    drawn = attack_unprotected(
        table, Adversary(known_items=8), n_targets=400, rng=np.random.default_rng(3)
    )
    truth = table.records.of_code[drawn.targets]
    outcome = attack_centered(table, drawn.aux, truth, 1.5, dense_share=dense_share)
    assert outcome.correct.sum() > 300
    assert (outcome.top1_credit[outcome.correct] > 0).all()
    assert outcome.top1_credit.mean() >= outcome.risk().value
