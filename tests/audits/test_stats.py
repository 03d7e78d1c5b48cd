import math

import pytest

from audits.stats import wilson_interval


def wilson_by_hand(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(81, 263), (0, 10), (10, 10), (1, 1000), (500, 1000)])
def test_wilson_matches_the_formula(k, n):
    lo, hi = wilson_interval(k, n)
    expected = wilson_by_hand(k, n)
    assert lo == pytest.approx(max(0.0, expected[0]), abs=1e-9)
    assert hi == pytest.approx(min(1.0, expected[1]), abs=1e-9)


def test_wilson_known_value():
    # 81 successes of 263 (Wilson 1927 style worked example; 95%)
    lo, hi = wilson_interval(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)


def test_wilson_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="successes must be in"):
        wilson_interval(3, 2)
    with pytest.raises(ValueError, match="confidence_level must be in"):
        wilson_interval(1, 2, confidence_level=1.0)
