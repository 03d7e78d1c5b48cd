"""Seeds that cannot weaken noise: a seeded release mixes in the organizer's key.

The attack of issue 14: from a bundle alone, replay the tool's seeded randomness for
candidate seeds and subtract the noise. Before keyed seeds, ``--seed 1234`` was found
in seconds and every exact count recovered.
"""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from policies import parse_policy
from policies.aggregates import compute_aggregates
from publisher.cli import main
from publisher.core.errors import PolicyError
from publisher.core.ratings import Scale
from publisher.engine.evaluate import seed_sequence
from publisher.engine.keys import Keys
from publisher.engine.release import release
from publisher.readers import ReadOptions, read_ratings

from tests.conftest import TEST_KEYS

pytestmark = pytest.mark.slow  # real releases: run with -m slow or the full suite

STARS = Scale(1, 5, 1)
AGGREGATES_ONLY = """name: counts
steps: [{pseudonymize_users: {}}]
aggregates:
  epsilon: 1.0
  max_ratings_per_user: 5
  microdata: false
  statistics: [item_count]
  domain: {items: {range: [1, 300]}}
"""


@pytest.fixture
def ratings_csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = {
        (int(u), int(i)): int(rng.integers(1, 6))
        for u in range(400)
        for i in rng.integers(1, 301, size=12)
    }
    frame = pd.DataFrame(
        [(u, i, r) for (u, i), r in rows.items()], columns=["user", "item", "rating"]
    )
    path = tmp_path / "ratings.csv"
    frame.to_csv(path, index=False)
    return path


def replay(ratings, policy, root):
    """What the tool computes for a given root of randomness: the attacker's replay,
    given everything (even the exact data) except the organizer's key."""
    aggregate_seed = root.spawn(4)[2]
    tables = compute_aggregates(
        ratings, policy.aggregates, np.random.default_rng(aggregate_seed), seeded=True
    )
    return tables["item_count"]["count"].to_numpy()


def test_seed_search_recovers_no_noise_from_a_keyed_bundle(ratings_csv, tmp_path):
    policy = parse_policy(AGGREGATES_ONLY, "counts")
    out = tmp_path / "bundle"
    release(ratings_csv, policy, out, key=TEST_KEYS, seed=1234, reading=ReadOptions(scale=STARS))
    published = pd.read_parquet(out / "aggregates" / "item_count.parquet")["count"].to_numpy()
    original = read_ratings(ratings_csv, scale=STARS)
    # Control: the key holder reproduces the release exactly, so the replay is faithful.
    assert (replay(original, policy, seed_sequence(1234, TEST_KEYS)) == published).all()
    # The attacker tries every seed up to 2,000 (the true one among them) without the key.
    matches = [
        float(np.mean(replay(original, policy, np.random.SeedSequence(s)) == published))
        for s in range(2000)
    ]
    # Two independent draws of geometric noise (alpha = e^-0.2) agree on about 5% of the
    # items, more where both clip to 0: no candidate comes near reproducing the table.
    assert max(matches) < 0.5
    assert matches[1234] < 0.5
    # A wrong key with the right seed does no better.
    wrong = replay(original, policy, seed_sequence(1234, Keys.derive(b"a-guessed-key-0123456789")))
    assert np.mean(wrong == published) < 0.5


def test_seeded_release_of_noise_without_a_key_is_refused_before_any_work(ratings_csv, tmp_path):
    out = tmp_path / "bundle"
    with pytest.raises(PolicyError) as caught:
        release(ratings_csv, "balanced", out, seed=1, reading=ReadOptions(scale=STARS))
    assert str(caught.value) == (
        "--seed without the organizer's key: anyone who guessed the seed could replay and "
        "undo the random draws of steps[2].cap_user_ratings, steps[4].perturb_ratings; pass "
        "--key-file (the seed is then mixed with the key, so only its holder can reproduce "
        "the release) or leave out --seed"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ratings.csv"]
    result = CliRunner().invoke(
        main,
        ["release", str(ratings_csv), "-p", "balanced", "-o", str(out), "--seed", "1"],
        env={"PUBLISHER_KEY": None},
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --seed without the organizer's key")
    assert not out.exists()


def test_a_seed_without_key_is_fine_when_nothing_is_random(ratings_csv, tmp_path):
    policy = parse_policy(
        "name: plain\nsteps: [{pseudonymize_users: {}}, {drop_rare_items: {min_raters: 2}}]\n"
        "gate: none\n"
    )
    assert policy.noise_sources() == []
    result = release(ratings_csv, policy, tmp_path / "b", seed=1, reading=ReadOptions(scale=STARS))
    assert result.report["randomness"] == "seeded"


def test_keyed_seed_reproduces_and_records_no_seed(ratings_csv, tmp_path):
    runs = []
    policy = parse_policy(
        "name: noisy\nsteps: [{pseudonymize_users: {}}, {perturb_ratings: {epsilon: 1}}]\n"
        "gate: none\n"
    )
    for name in ("a", "b"):
        runs.append(
            release(
                ratings_csv,
                policy,
                tmp_path / name,
                key=TEST_KEYS,
                seed=8,
                reading=ReadOptions(scale=STARS),
            )
        )
    a, b = (pd.read_parquet(tmp_path / n / "data" / "ratings.parquet") for n in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)
    assert runs[0].report["randomness"] == "seeded-with-key"
    other = release(
        ratings_csv,
        policy,
        tmp_path / "c",
        key=Keys.derive(b"another-organizer-key"),
        seed=8,
        reading=ReadOptions(scale=STARS),
    )
    assert other.report["randomness"] == "seeded-with-key"
    c = pd.read_parquet(tmp_path / "c" / "data" / "ratings.parquet")
    # same seed, other key: other noise (and other pseudonyms)
    assert not np.array_equal(np.sort(a["rating"].to_numpy()), np.sort(c["rating"].to_numpy())) or (
        set(a["user"]) != set(c["user"])
    )
