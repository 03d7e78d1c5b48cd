"""Properties every policy step must keep, on random small tables (hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.steps import (
    CapUserRatings,
    CoarsenDates,
    DeleteRatings,
    DropDates,
    DropRareItems,
    DropSparseUsers,
    InsertRatings,
    JitterDates,
    PerturbRatings,
    PseudonymizeUsers,
    RedateRatings,
    SampleUsers,
)
from publisher.core.ratings import Ratings, Scale

SCALES = [Scale(1, 5, 1), Scale(0.5, 5, 0.5), Scale(1, 10, 1)]


@st.composite
def tables(draw):
    scale = draw(st.sampled_from(SCALES))
    pairs = draw(
        st.sets(st.tuples(st.integers(0, 15), st.integers(0, 20)), min_size=1, max_size=80)
    )
    pairs = sorted(pairs)
    n = len(pairs)
    values = scale.values()
    ratings = [values[draw(st.integers(0, scale.k - 1))] for _ in range(n)]
    days = draw(st.lists(st.integers(10_000, 14_000), min_size=n, max_size=n))
    users = [f"user-{u}" for u, _ in pairs]
    items = [i for _, i in pairs]
    with_dates = draw(st.booleans())
    return Ratings.from_columns(users, items, ratings, days if with_dates else None, scale=scale)


steps = st.one_of(
    st.builds(PseudonymizeUsers, key=st.just(b"k" * 16)),
    st.builds(DropRareItems, min_raters=st.integers(1, 5)),
    st.builds(DropSparseUsers, min_ratings=st.integers(1, 5)),
    st.builds(CapUserRatings, max_ratings=st.integers(1, 5)),
    st.builds(SampleUsers, fraction=st.floats(0.01, 1.0)),
    st.builds(CoarsenDates, to=st.sampled_from(["week", "month", "quarter", "year"])),
    st.builds(DropDates),
    st.builds(JitterDates, max_days=st.integers(0, 30)),
    st.builds(PerturbRatings, epsilon=st.floats(0.01, 10.0)),
    st.builds(DeleteRatings, fraction=st.floats(0.0, 0.99)),
    st.builds(InsertRatings, fraction=st.floats(0.0, 1.0)),
    st.builds(RedateRatings, fraction=st.floats(0.0, 1.0), max_days=st.integers(1, 30)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), step=steps, seed=st.integers(0, 2**32 - 1))
def test_step_contract(table, step, seed):
    before = table.frame.copy(deep=True)
    out = step.transform(table, np.random.default_rng(seed))
    # never mutates its input
    pd.testing.assert_frame_equal(table.frame, before)
    # ratings stay on the scale, codes stay valid, one rating per (user, item)
    assert out.scale.on_scale(out.frame["rating"].to_numpy()).all()
    assert out.frame["user"].between(0, len(out.user_ids) - 1).all()
    assert out.frame["item"].between(0, len(out.item_ids) - 1).all()
    assert not out.frame.duplicated(["user", "item"]).any()
    # only steps that declare it change the row count
    if not step.changes_rows:
        assert out.n_ratings == table.n_ratings
    # dtypes stay compact
    assert out.frame["user"].dtype == np.int32
    assert out.frame["rating"].dtype == np.float32
    if out.has_dates:
        assert out.frame["date"].dtype == np.int32


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), seed=st.integers(0, 2**32 - 1), shuffle=st.integers(0, 2**32 - 1))
def test_audits_ignore_row_order(table, seed, shuffle):
    from audits import run_audits
    from publisher.core import Adversary

    order = np.random.default_rng(shuffle).permutation(table.n_ratings)
    permuted = table.with_frame(table.frame.iloc[order].reset_index(drop=True))
    adversaries = [
        Adversary(known_items=1),
        Adversary(known_items=2, rating_tolerance=1, date_tolerance_days=3),
    ]

    def run(t):
        return run_audits(
            t,
            t,
            adversaries=adversaries,
            n_targets=20,
            uniqueness_known_items=(1, 2),
            seed=np.random.SeedSequence(seed),
        ).to_dict()

    assert run(table) == run(permuted)
