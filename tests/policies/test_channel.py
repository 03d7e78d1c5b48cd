"""What each step tells an attacker: its part of the channel, folded in policy order.

The likelihood scorer models a release only from its public policy; these are its
inputs, each computed by hand.
"""

import math

import pytest

from policies.steps import build_step
from publisher.core.channel import IDENTITY, Channel
from publisher.core.ratings import Scale
from publisher.engine.simulate import attacker_channel

STARS = Scale(1, 5, 1)  # k = 5


def channel(*entries):
    steps = [build_step(entry, f"steps[{k}]") for k, entry in enumerate(entries)]
    return attacker_channel(steps, STARS)


def test_randomized_response_keeps_a_value_with_e_eps_over_e_eps_plus_k_minus_1():
    keep = channel({"perturb_ratings": {"epsilon": 1.0}}).keep_probability
    assert keep == pytest.approx(math.e / (math.e + 4))


def test_two_rounds_of_randomized_response_are_one():
    # kept twice, or changed and changed back: a b + (1 - a)(1 - b) / (k - 1)
    a = math.e / (math.e + 4)
    b = math.exp(2) / (math.exp(2) + 4)
    both = channel({"perturb_ratings": {"epsilon": 1.0}}, {"perturb_ratings": {"epsilon": 2.0}})
    assert both.keep_probability == pytest.approx(a * b + (1 - a) * (1 - b) / 4)


def test_date_steps_by_hand():
    jitter = channel({"jitter_dates": {"max_days": 3}}, {"jitter_dates": {"max_days": 4}})
    assert jitter.shift_days == 7  # two uniform shifts reach 7 days: the model's window
    redate = channel(
        {"redate_ratings": {"fraction": 0.2, "max_days": 5}},
        {"redate_ratings": {"fraction": 0.5, "max_days": 2}},
    )
    assert redate.redate_fraction == pytest.approx(1 - 0.8 * 0.5)
    assert redate.redate_days == 5
    assert channel({"coarsen_dates": {"to": "month"}}).period == "month"


def test_row_removing_steps_by_hand():
    deleted = channel({"delete_ratings": {"fraction": 0.1}}, {"delete_ratings": {"fraction": 0.2}})
    assert deleted.deletion == pytest.approx(1 - 0.9 * 0.8)
    capped = channel(
        {"cap_user_ratings": {"max_ratings": 100}}, {"cap_user_ratings": {"max_ratings": 300}}
    )
    assert capped.cap == 100
    sampled = channel({"sample_users": {"fraction": 0.5}}, {"sample_users": {"fraction": 0.4}})
    assert sampled.sample == pytest.approx(0.2)


def test_steps_that_leave_every_kept_value_as_it_was_change_nothing():
    same = channel(
        {"pseudonymize_users": {}},
        {"drop_rare_items": {"min_raters": 5}},
        {"drop_sparse_users": {"min_ratings": 3}},
    )
    assert same == IDENTITY
    assert same.describe() == "the data as it is"


def test_a_channel_in_words():
    words = Channel(keep_probability=0.5, period="year", cap=50, sample=0.5).describe()
    assert words == (
        "values kept with probability 0.50; dates to the year; histories capped at 50; "
        "50% of customers released"
    )
