"""What a search that recommends nothing says: the least risky candidate, and what next."""

from publisher.tuning.advice import least_risky, next_knobs
from publisher.tuning.search import Trial
from publisher.tuning.space import Candidate, Knob

KNOBS = (
    Knob("drop_rare_items", "min_raters", (None, 25, 100)),
    Knob("coarsen_dates", "to", (None, "year", "drop")),
    Knob("perturb_ratings", "epsilon", (None, 1.0, 0.5)),
    Knob("sample_users", "fraction", (None, 0.5)),
)


def test_knobs_at_the_strong_end_of_the_space_are_named_with_the_way_further():
    assert next_knobs(KNOBS, (100, "year", 0.5, None)) == [
        "drop_rare_items.min_raters above 100",
        "perturb_ratings.epsilon below 0.5",
        "add cap_user_ratings.max_ratings (not searched)",
        "add drop_sparse_users.min_ratings (not searched)",
        "add delete_ratings.fraction (not searched)",
        "add jitter_dates.max_days (not searched)",
    ]
    # dates to the year, with drop in the space: the space's stronger value was tried
    assert next_knobs(KNOBS[1:2], ("year",))[0] == "add drop_rare_items.min_raters (not searched)"
    # dates below the space's strongest: no way further than dropping them
    assert next_knobs((Knob("coarsen_dates", "to", (None, "month")),), ("month",))[0] == (
        "coarsen_dates.to: drop (no dates)"
    )
    assert next_knobs(KNOBS, (25, None, 1.0, 0.5))[0] == "sample_users.fraction below 0.5"


def trial(number, upper, kept):
    figures = {"risk": [{"ci": [0, upper]}], "risk_upper": upper, "utility": {"ratings_kept": kept}}
    return Trial(Candidate(number, (), None), "screened-out", figures=figures)  # type: ignore[arg-type]


def test_the_least_risky_is_the_lowest_upper_bound_then_the_most_data():
    trials = [
        trial(0, 0.4, 0.9),
        trial(1, 0.2, 0.1),
        trial(2, 0.2, 0.3),
        Trial(Candidate(3, (), None)),
    ]
    assert least_risky(trials).candidate.number == 2
    assert least_risky([Trial(Candidate(0, (), None))]) is None  # nothing measured


def test_every_knob_ordered_up_or_down_can_be_suggested():
    from policies import STEPS
    from publisher.tuning.advice import SUGGESTED

    ordered = {
        (name, param)
        for name, cls in STEPS.items()
        for param, order in cls.protection.items()
        if order in ("up", "down")
    }
    assert set(SUGGESTED) == ordered
