"""report.json ``distributions``: histograms and popularity curves, exact on a tiny table."""

from publisher.reporting.report_json import distributions


def test_distributions_of_a_tiny_table(tiny):
    released = tiny.with_frame(tiny.frame.iloc[:6].reset_index(drop=True))
    out = distributions(tiny, released)
    # tiny: ratings 5,3,4,5,2,1,4,4,2,3; items 1,2,3,1,2,1,3,4,4,1
    assert out["rating_histogram"] == {
        "values": [1.0, 2.0, 3.0, 4.0, 5.0],
        "original": [1, 2, 2, 3, 2],
        "released": [1, 1, 1, 1, 2],
    }
    # ranks 1..n (about 100 log-spaced ranks for long tails): raters of the rank-th item
    assert out["item_popularity"]["original"] == [[1, 4], [2, 2], [3, 2], [4, 2]]
    assert out["item_popularity"]["released"] == [[1, 3], [2, 2], [3, 1]]


def test_an_empty_release_has_an_empty_popularity_curve(tiny):
    empty = tiny.with_frame(tiny.frame.iloc[:0])
    assert distributions(tiny, empty)["item_popularity"]["released"] == []
