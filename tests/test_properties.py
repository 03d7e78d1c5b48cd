"""Properties every policy step must keep, on random small tables (hypothesis)."""

import dataclasses

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.steps import (
    STEPS,
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
from policies.steps._base import TRAITS
from publisher.core.adversary import AuditSettings
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


#: A strategy per registered step: a step added to the registry without one fails
#: test_every_registered_step_has_a_strategy, so no step escapes these properties.
STRATEGIES = {
    "pseudonymize_users": st.builds(PseudonymizeUsers, key=st.just(b"k" * 16)),
    "drop_rare_items": st.builds(DropRareItems, min_raters=st.integers(1, 5)),
    "drop_sparse_users": st.builds(DropSparseUsers, min_ratings=st.integers(1, 5)),
    "cap_user_ratings": st.builds(CapUserRatings, max_ratings=st.integers(1, 5)),
    "sample_users": st.builds(SampleUsers, fraction=st.floats(0.01, 1.0)),
    "coarsen_dates": st.builds(
        CoarsenDates, to=st.sampled_from(["week", "month", "quarter", "year"])
    ),
    "drop_dates": st.builds(DropDates),
    "jitter_dates": st.builds(JitterDates, max_days=st.integers(0, 30)),
    "perturb_ratings": st.builds(PerturbRatings, epsilon=st.floats(0.01, 10.0)),
    "delete_ratings": st.builds(DeleteRatings, fraction=st.floats(0.0, 0.99)),
    "insert_ratings": st.builds(InsertRatings, fraction=st.floats(0.0, 1.0)),
    "redate_ratings": st.builds(
        RedateRatings, fraction=st.floats(0.0, 1.0), max_days=st.integers(1, 30)
    ),
}
steps = st.sampled_from(sorted(STRATEGIES)).flatmap(STRATEGIES.__getitem__)


def test_every_registered_step_has_a_strategy():
    assert set(STRATEGIES) == set(STEPS)


def test_every_registered_step_states_its_traits():
    """Traits are declared in each step's own class body: a new step cannot inherit
    'removes nothing, needs no key, moves no dates' by forgetting to say."""
    for name, cls in STEPS.items():
        missing = [trait for trait in TRAITS if trait not in vars(cls)]
        assert not missing, f"{name} does not state {missing}"
        for param, order in cls.protection.items():
            assert param in {f.name for f in dataclasses.fields(cls)}, (name, param)
            assert order in ("up", "down") or isinstance(order, tuple), (name, param)


def _rows(table):
    """Each rating as (user id, item id, value, date), comparable across tables."""
    frame = table.frame
    dates = frame["date"].to_numpy() if table.has_dates else np.zeros(len(frame), int)
    return set(
        zip(
            np.asarray(table.user_ids)[frame["user"].to_numpy()].tolist(),
            np.asarray(table.item_ids)[frame["item"].to_numpy()].tolist(),
            frame["rating"].to_numpy().tolist(),
            dates.tolist(),
            strict=True,
        )
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables(), step=steps, seed=st.integers(0, 2**32 - 1))
def test_a_step_that_declares_removes_only_keeps_every_other_rating_as_it_was(table, step, seed):
    """The policy-simulated attacker applies exactly the steps that declare
    ``removes_only``; a step that changed a kept rating (or added one) must not."""
    out = step.transform(table, np.random.default_rng(seed))
    if step.removes_only:
        assert _rows(out) <= _rows(table)
    if step.moves_dates or step.date_period() is not None:
        assert not step.removes_only


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
            AuditSettings(
                adversaries=tuple(adversaries), targets=20, uniqueness_known_items=(1, 2)
            ),
            seed=np.random.SeedSequence(seed),
        ).to_dict()

    assert run(table) == run(permuted)
