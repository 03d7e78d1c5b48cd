import math

import numpy as np
import pytest
from diffprivlib.mechanisms import Exponential
from scipy.stats import chi2_contingency

from policies import parse_policy
from policies.aggregates import compute_aggregates
from policies.noise import randomized_response
from publisher.core.errors import BudgetExceededError, PolicyError
from publisher.core.ratings import Ratings, Scale

BASE = (
    "name: x\ngate: none\naggregates:\n  epsilon: 1.0\n  max_ratings_per_user: {L}\n  statistics: {stats}\n"
    "  domain: {{items: {{range: [0, 1]}}, dates: {{from: 2000-01-01, to: 2000-12-31}}}}\n"
)


def config(stats="[item_count]", L=2):
    return parse_policy(BASE.format(stats=stats, L=L), "p.yaml").aggregates


def test_even_split_of_what_explicit_shares_leave():
    agg = config("[item_count, {item_mean: {epsilon: 0.4}}, rating_histogram]")
    assert [(s.name, s.epsilon) for s in agg.statistics] == [
        ("item_count", 0.3),
        ("item_mean", 0.4),
        ("rating_histogram", 0.3),
    ]


def test_overspending_fails_at_load_with_three_lines():
    with pytest.raises(BudgetExceededError) as caught:
        config("[{item_count: {epsilon: 0.7}}, {item_mean: {epsilon: 0.5}}]")
    assert str(caught.value) == (
        "p.yaml: aggregates.epsilon: aggregates.statistics[1].item_mean overspends the privacy "
        "budget\n"
        "  Requested:  epsilon=0.5, delta=0\n"
        "  Remaining:  epsilon=0.3, delta=0\n"
        "  Difference: epsilon=0.2, delta=0"
    )
    assert isinstance(caught.value, PolicyError)


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ("[item_sum]", "aggregates.statistics[0]: unknown statistic 'item_sum'"),
        (
            "[{item_count: {epsilon: -1}}]",
            "aggregates.statistics[0].item_count.epsilon: must be a number >= 0.0001, got -1",
        ),
        (
            "[{item_count: {epsilon: 1.0}}, item_mean]",
            "aggregates.statistics: the explicit epsilons use the whole budget",
        ),
        (
            "[{ratings_per_period: {period: hour}}]",
            "aggregates.statistics[0].ratings_per_period.period: must be one of day, week, month",
        ),
    ],
)
def test_bad_statistics(stats, message):
    with pytest.raises(
        PolicyError, match=f"^p.yaml: {message}".replace("[", r"\[").replace("(", r"\(")
    ):
        config(stats)


def counts_table(n_users=400, second_item=False):
    """Every user rates item 0 with a 4 (and, optionally, even users also item 1)."""
    users = np.repeat(np.arange(n_users), 2)
    items = np.tile([0, 1], n_users)
    keep = (items == 0) | ((users % 2 == 0) & second_item)
    return Ratings.from_columns(
        users[keep], items[keep], np.full(keep.sum(), 4.0), scale=Scale(1, 5, 1)
    )


@pytest.mark.slow
def test_geometric_noise_scale_matches_theory():
    # two-sided geometric with alpha = exp(-eps / L): variance 2 alpha / (1 - alpha)^2
    agg = config("[{item_count: {epsilon: 0.5}}]", L=1)
    table = counts_table()
    draws = np.array(
        [
            compute_aggregates(table, agg, np.random.default_rng(s), seeded=True)["item_count"][
                "count"
            ]
            for s in range(600)
        ]
    )
    noise = draws[:, 0] - 400
    alpha = math.exp(-0.5)
    assert abs(np.median(noise)) <= 1
    expected = 2 * alpha / (1 - alpha) ** 2  # 7.92
    # 600 draws: the sample variance has a relative standard error of about 0.1; 4 sigma
    assert abs(noise.var() / expected - 1) < 0.4


@pytest.mark.slow
def test_empirical_epsilon_inequality_for_counts():
    """P[out = v | D] <= e^eps P[out = v | D'] for D' = D minus one customer."""
    agg = config("[{item_count: {epsilon: 1.0}}]", L=1)
    with_user = counts_table(n_users=50)
    frame = with_user.frame
    without = with_user.with_frame(frame[frame["user"] != 0].reset_index(drop=True))
    runs = 3000
    outputs = [
        [
            compute_aggregates(t, agg, np.random.default_rng(s), seeded=True)["item_count"][
                "count"
            ][0]
            for s in range(runs)
        ]
        for t in (with_user, without)
    ]
    values = range(45, 56)
    p = np.array([[np.mean(np.array(o) == v) for v in values] for o in outputs])
    # The geometric mechanism meets the bound with equality, so allow sampling error on
    # both sides: 3 standard errors of each estimate (the right one scaled by e^eps).
    se = 3 * np.sqrt(p * (1 - p) / runs)
    assert (p[0] <= math.e * (p[1] + se[1]) + se[0]).all()
    assert (p[1] <= math.e * (p[0] + se[0]) + se[1]).all()


def test_item_mean_is_on_the_scale_and_near_truth_with_large_epsilon():
    agg = parse_policy(BASE.format(stats="[{item_mean: {epsilon: 1.0}}]", L=2), "p").aggregates
    table = counts_table(n_users=2000)
    means = compute_aggregates(table, agg, np.random.default_rng(0), seeded=True)["item_mean"]
    assert means["mean"].dropna().between(1, 5).all()  # null where the noisy count is < 1
    # True mean 4 over 2,000 ratings. The sum's Laplace scale is L (max - min) / 2 / (eps / 2)
    # = 8, a standard deviation of 8 sqrt(2) = 11.3, so the mean's is 11.3 / 2000 = 0.0057
    # (the count's noise adds far less): 4 standard deviations is 0.023.
    assert abs(means["mean"][0] - 4) < 0.023


def test_contribution_bound_limits_each_user():
    text = BASE.format(stats="[rating_histogram]", L=1).replace("epsilon: 1.0", "epsilon: 1000")
    agg = parse_policy(text, "p").aggregates
    table = counts_table(n_users=1000, second_item=True)  # 1500 ratings; one per user counted
    hist = compute_aggregates(table, agg, np.random.default_rng(0), seeded=True)["rating_histogram"]
    assert hist["count"].sum() == 1000


def test_randomized_response_matches_diffprivlib_exponential():
    """k-ary RR is the exponential mechanism with utility 1 for the truth (monotonic)."""
    k, eps, n = 5, 1.0, 4000
    ours = randomized_response(np.full(n, 2), k, eps, np.random.default_rng(1))
    mechanism = Exponential(
        epsilon=eps, sensitivity=1, utility=[0, 0, 1, 0, 0], monotonic=True, random_state=2
    )
    theirs = np.array([mechanism.randomise() for _ in range(n)])
    table = np.array([np.bincount(ours, minlength=k), np.bincount(theirs, minlength=k)])
    # same distribution: the chi-square test should not reject at the 0.1% level
    assert chi2_contingency(table).pvalue > 0.001
    expected = np.array([1, 1, math.e, 1, 1]) / (math.e + 4)
    assert np.allclose(table / n, expected, atol=0.03)  # about 4 standard errors


@pytest.mark.parametrize(
    ("name", "period", "describes", "mechanism"),
    [
        ("item_count", "month", "ratings per item", "geometric"),
        ("item_mean", "month", "mean rating per item", "geometric + Laplace"),
        ("item_histogram", "month", "ratings per item and rating value", "geometric"),
        ("rating_histogram", "month", "ratings per rating value", "geometric"),
        ("ratings_per_period", "week", "ratings per week", "geometric"),
    ],
)
def test_each_statistic_states_its_guarantee(name, period, describes, mechanism):
    from policies.aggregates import Statistic

    stat = Statistic(name=name, epsilon=0.25, period=period)
    assert stat.describe() == describes
    guarantee = stat.guarantee(7)
    assert guarantee.component == f"aggregates.{name}"
    assert guarantee.mechanism == mechanism
    assert guarantee.epsilon == 0.25
    assert guarantee.scope == "one customer (at most 7 of their ratings counted), central"
    assert guarantee.covers == (
        f"whether or not any one customer is in the data, the published {describes} are "
        "about equally likely (0.25-differential privacy)"
    )
    written = stat.to_dict()
    assert written == (
        {name: {"epsilon": 0.25, "period": period}}
        if name == "ratings_per_period"
        else {name: {"epsilon": 0.25}}
    )


def test_even_split_never_overspends_and_keeps_exact_halves():
    from fractions import Fraction

    halves = config("[item_count, rating_histogram]").statistics
    assert [s.epsilon for s in halves] == [0.5, 0.5]  # exact in binary: kept as it is
    text = BASE.format(stats="[item_count, rating_histogram, item_mean]", L=2).replace(
        "epsilon: 1.0", "epsilon: 0.3"
    )
    thirds = parse_policy(text, "p").aggregates.statistics
    # 0.3 / 3 = 1/10, whose nearest float is above 1/10: each share is the float below
    assert all(Fraction(s.epsilon) < Fraction(1, 10) for s in thirds)
    assert sum(Fraction(s.epsilon) for s in thirds) <= Fraction(3, 10)


def test_the_domain_filters_items_and_values_together():
    text = (
        "name: d\ngate: none\naggregates:\n  epsilon: 1000\n  max_ratings_per_user: 9\n"
        "  statistics: [rating_histogram]\n"
        "  domain: {items: {range: [1, 2]}, scale: '2:4:1'}\n"
    )
    agg = parse_policy(text, "p").aggregates
    table = Ratings.from_columns(
        ["a", "a", "b", "b", "c"], [1, 2, 1, 3, 2], [2, 5, 4, 3, 3], scale=Scale(1, 5, 1)
    )
    hist = compute_aggregates(table, agg, np.random.default_rng(0), seeded=True)
    # counted: (a,1,2), (b,1,4), (c,2,3); not (a,2,5): off the scale; not (b,3,3): item 3
    assert hist["rating_histogram"]["count"].tolist() == [1, 1, 1]


def test_an_inferred_scale_is_refused_with_advice():
    agg = config("[rating_histogram]")
    table = counts_table()
    inferred = table.with_frame(table.frame, scale_inferred=True)
    with pytest.raises(PolicyError) as caught:
        compute_aggregates(inferred, agg, np.random.default_rng(0), seeded=True)
    assert str(caught.value) == (
        "aggregates.domain.scale: the rating scale 1:5:1 was inferred from the data, so the "
        "tables' rows would depend on it; declare it with 'scale: 1:5:1' under "
        "aggregates.domain (or pass --scale)"
    )


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "{epsilon: 0, max_ratings_per_user: 1, statistics: [rating_histogram]}",
            "aggregates.epsilon: must be a number >= 0.0001, got 0",
        ),
        (
            "{epsilon: 1, delta: 1.5, max_ratings_per_user: 1, statistics: [rating_histogram]}",
            "aggregates.delta: must be a number in [0, 1], got 1.5",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 0, statistics: [rating_histogram]}",
            "aggregates.max_ratings_per_user: must be an integer in [1, 1,000,000], got 0",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, microdata: 'no', statistics: [rating_histogram]}",
            "aggregates.microdata: must be true or false, got 'no'",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: []}",
            "aggregates.statistics: must be a non-empty list",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: [{a: 1, b: 2}]}",
            "aggregates.statistics[0]: must be a statistic name or a one-key mapping",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: [{rating_histogram: {period: year}}]}",
            "aggregates.statistics[0].rating_histogram: unknown key 'period'; allowed: epsilon",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: [{rating_histogram: {epsilon: 0}}]}",
            "aggregates.statistics[0].rating_histogram.epsilon: must be a number >= 0.0001, got 0",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
            "domain: {items: {range: [1, 2], x: 1}}}",
            "aggregates.domain.items: unknown key 'x' beside range",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
            "domain: {items: {catalogue: c.csv, x: 1}}}",
            "aggregates.domain.items: unknown key 'x' beside catalogue",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
            "domain: {items: {catalogue: 5}}}",
            "aggregates.domain.items.catalogue: must be a file path, got 5",
        ),
        (
            "{epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
            "domain: {items: {range: [1000000, 3000001]}}}",
            "aggregates.domain.items.range: 2,000,002 ids, more than 2,000,000; list the real "
            "catalogue in a file instead",
        ),
    ],
)
def test_aggregates_section_errors_name_their_key(section, message):
    with pytest.raises(PolicyError) as caught:
        parse_policy(f"name: x\ngate: none\naggregates: {section}\n", "p.yaml")
    assert str(caught.value) == f"p.yaml: {message}"


def test_a_large_id_range_far_from_zero_is_accepted():
    agg = parse_policy(
        "name: x\ngate: none\naggregates: {epsilon: 1, max_ratings_per_user: 1, statistics: [item_count], "
        "domain: {items: {range: [1000000, 2999999]}}}"
    ).aggregates
    assert len(agg.domain.items.ids) == 2_000_000
    assert agg.delta == 0.0


TOP = (
    "name: c\ngate: none\naggregates: {{{top}, statistics: {stats}, "
    "domain: {{items: {{range: [1, 2]}}, dates: {{from: 2000-01-01, to: 2000-12-31}}}}}}"
)


@pytest.mark.parametrize(
    ("top", "stats", "message"),
    [
        (
            "epsilon: 0, max_ratings_per_user: 1",
            "[item_count]",
            "epsilon: must be a number >= 0.0001, got 0",
        ),
        (
            "epsilon: 1, delta: 2, max_ratings_per_user: 1",
            "[item_count]",
            "delta: must be a number in [0, 1], got 2",
        ),
        (
            "epsilon: 1, max_ratings_per_user: 0",
            "[item_count]",
            "max_ratings_per_user: must be an integer in [1, 1,000,000], got 0",
        ),
        ("max_ratings_per_user: 1", "[item_count]", ": missing required key 'epsilon'"),
        ("epsilon: 1", "[item_count]", ": missing required key 'max_ratings_per_user'"),
        (
            "epsilon: 1, max_ratings_per_user: 1",
            "[item_sum]",
            "statistics[0]: unknown statistic 'item_sum'; statistics: item_count, item_mean, "
            "item_histogram, rating_histogram, ratings_per_period",
        ),
        (
            "epsilon: 1, max_ratings_per_user: 1",
            "[{item_count: {epsilon: 0}}]",
            "statistics[0].item_count.epsilon: must be a number >= 0.0001, got 0",
        ),
        (
            "epsilon: 1, max_ratings_per_user: 1",
            "[{item_count: {epsilon: 1, period: day}}]",
            "statistics[0].item_count: unknown key 'period'; allowed: epsilon",
        ),
    ],
)
def test_bad_aggregates_name_their_key_exactly(top, stats, message):
    with pytest.raises(PolicyError) as caught:
        parse_policy(TOP.format(top=top, stats=stats))
    assert str(caught.value) == f"policy: aggregates{'' if message[0] == ':' else '.'}{message}"


def test_declared_delta_and_per_statistic_epsilon_of_a_period_table_are_kept():
    agg = parse_policy(
        TOP.format(
            top="epsilon: 1, delta: 0.001, max_ratings_per_user: 1",
            stats="[{ratings_per_period: {epsilon: 0.5, period: week}}, item_count]",
        )
    ).aggregates
    assert agg.delta == 0.001
    assert agg.to_dict()["delta"] == 0.001
    assert [(s.name, s.epsilon, s.period) for s in agg.statistics] == [
        ("ratings_per_period", 0.5, "week"),
        ("item_count", 0.5, "month"),  # a period is carried but unused by item tables
    ]


def test_counts_are_integers_and_the_log_says_what_was_left_out(caplog):
    agg = config("[item_count, item_mean]", L=2)
    users = np.array([0, 0, 1, 2])
    table = Ratings.from_columns(
        users, np.array([0, 5, 1, 0]), np.array([4.0, 3.0, 2.0, 5.0]), scale=Scale(1, 5, 1)
    )  # item 5 is outside the declared range [0, 1]
    with caplog.at_level("INFO", logger="policies.aggregates"):
        out = compute_aggregates(table, agg, np.random.default_rng(0), seeded=True)
    assert out["item_count"]["count"].dtype == np.int64
    assert out["item_mean"]["mean"].dtype == np.float64
    assert "aggregates: 1 ratings outside the declared domain are not counted" in caplog.messages
    assert "aggregates: 2 statistics, epsilon 1 of 1 spent" in caplog.messages
