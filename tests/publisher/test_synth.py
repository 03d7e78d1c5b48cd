import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.readers import read_ratings
from publisher.synth import (
    MAX_ITEM_SHARE,
    PRESETS,
    _calibrate_weights,
    _draw_heavy,
    _inclusion_rates,
    _item_targets,
    synthesize,
    write_synthetic,
)

NETFLIX = PRESETS["netflix"]


@pytest.fixture(scope="module")
def small():
    return synthesize("netflix", scale=0.02, seed=4)


def test_shape_counts_and_no_repeated_pair(small):
    assert small["user"].nunique() == round(NETFLIX.users * 0.02)
    assert small["item"].nunique() == round(NETFLIX.items * 0.02)  # every movie rated
    assert not small.duplicated(["user", "item"]).any()
    keys = small["item"].to_numpy().astype(np.int64) * 10**7 + small["user"].to_numpy()
    assert np.all(np.diff(keys) > 0)  # sorted by item, then user
    assert {c: str(t) for c, t in small.dtypes.items()} == {
        "user": "int32", "item": "int32", "rating": "float32", "date": "int32"
    }  # fmt: skip


def test_marginals_that_hold_at_any_scale(small):
    # The rating histogram is cut at the target's quantiles: within 0.5 points.
    histogram = small["rating"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(histogram, NETFLIX.histogram, atol=0.005)
    # Ratings per customer: median 96 (log-normal draw of 9,604 customers; +-5%).
    assert small.groupby("user").size().median() == pytest.approx(96, rel=0.05)
    first = (np.datetime64(NETFLIX.first_day) - np.datetime64("1970-01-01")).astype(int)
    last = (np.datetime64(NETFLIX.last_day) - np.datetime64("1970-01-01")).astype(int)
    assert first <= small["date"].min()
    assert small["date"].max() <= last


def test_seeded_draws_repeat(small):
    pd.testing.assert_frame_equal(small, synthesize("netflix", scale=0.02, seed=4))
    assert not small.equals(synthesize("netflix", scale=0.02, seed=5))


def test_row_chunks_do_not_change_the_draws(small, monkeypatch):
    # Chunks only bound the temporaries: a generator's draws continue across calls.
    from publisher import synth

    chunks = synth.row_chunks
    monkeypatch.setattr(synth, "row_chunks", lambda n: chunks(n, size=30_000))
    assert len(synth.row_chunks(len(small))) > 10
    pd.testing.assert_frame_equal(small, synthesize("netflix", scale=0.02, seed=4))


def test_item_targets_keep_the_median_cap_and_total():
    rng = np.random.default_rng(0)
    target = _item_targets(NETFLIX, 17_770, 480_189, 100_480_507, rng)
    assert np.median(target) == pytest.approx(561, rel=0.03)
    assert target.sum() == pytest.approx(100_480_507)
    assert target.max() <= MAX_ITEM_SHARE * 480_189 * 1.001
    assert target.min() >= 2.9


def test_inclusion_rates_solve_their_equation():
    weights = np.array([0.5, 0.3, 0.15, 0.05])
    draws = np.array([1.0, 2.0, 3.5])
    lam = _inclusion_rates(weights, draws)
    np.testing.assert_allclose((1 - np.exp(-np.outer(lam, weights))).sum(axis=1), draws, 1e-6)


def test_calibrated_weights_give_the_target_counts_in_expectation():
    rng = np.random.default_rng(1)
    per_user = np.clip(np.rint(rng.lognormal(np.log(20), 1.0, 3000)), 1, 150).astype(np.int64)
    target = np.sort(rng.lognormal(np.log(100), 1.2, 200))[::-1]
    target = np.minimum(target * per_user.sum() / target.sum(), 0.5 * 3000)
    target *= per_user.sum() / target.sum()
    weights = _calibrate_weights(target, per_user)
    lam = _inclusion_rates(weights, per_user.astype(float))
    expected = (1 - np.exp(-np.outer(lam, weights))).sum(axis=0)
    # binned users in the calibration, exact users here: agreement within 3%
    np.testing.assert_allclose(expected, target, rtol=0.03)


def test_heavy_users_get_exactly_their_count_of_distinct_items():
    rng = np.random.default_rng(2)
    per_user = np.array([5, 40, 60, 99])
    keys = _draw_heavy(np.arange(4), per_user, np.full(100, 0.01), 4, rng)
    assert len(np.unique(keys)) == len(keys) == per_user.sum()
    np.testing.assert_array_equal(np.bincount(keys % 4), per_user)


def test_movielens_preset_uses_half_stars():
    frame = synthesize("movielens", scale=1.0, seed=0)
    assert set(np.unique(frame["rating"])) <= set(PRESETS["movielens"].values)
    assert frame["user"].nunique() == 610


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["parquet", "netflix"])
def test_written_files_read_back(small, tmp_path, fmt):
    path = write_synthetic(small, tmp_path / f"out.{fmt}", format=fmt)
    back = read_ratings(path, format=fmt)
    assert back.n_ratings == len(small)
    assert len(back.user_ids) == small["user"].nunique()
    assert back.frame["rating"].sum() == pytest.approx(small["rating"].sum())
    assert not list(tmp_path.glob(".*tmp"))


def test_cli_synth(tmp_path):
    out = tmp_path / "s.parquet"
    result = CliRunner().invoke(
        main, ["synth", "--preset", "netflix", "--scale", "0.005", "--seed", "1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert result.output == (
        f"{out}: {len(frame):,} ratings, {frame['user'].nunique():,} users, "
        f"{frame['item'].nunique():,} items\n"
    )
    bad = CliRunner().invoke(main, ["synth", "--preset", "netflix", "--scale", "20", "-o", "x"])
    assert bad.exit_code == 2
    assert "20" in bad.output


def test_a_movie_released_during_the_span_is_rated_only_once_out():
    """Every movie of this preset comes out in 2005 (on DVD from 2005-05-01 at the
    earliest), so no rating predates that; who rated what is the same as without."""
    import dataclasses

    late = dataclasses.replace(NETFLIX, release_years=((2005, 1.0),))
    table = synthesize(late, scale=0.01, seed=2)
    first_out = (np.datetime64("2005-05-01") - np.datetime64("1970-01-01")).astype(int)
    assert table["date"].min() >= first_out
    assert table["date"].max() <= (
        np.datetime64(NETFLIX.last_day) - np.datetime64("1970-01-01")
    ).astype(int)
    # crowding: the new movies' ratings fill their first months, not the years before
    assert len(table) == len(
        synthesize(dataclasses.replace(late, release_years=()), scale=0.01, seed=2)
    )  # same counts, dates moved


def test_netflix_release_years_are_the_catalogue_s_shares():
    years = dict(NETFLIX.release_years)
    assert sorted(years) == list(range(2000, 2006))
    assert sum(years.values()) == pytest.approx(6937 / 17763, abs=0.002)
