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


def test_histograms_list_every_scale_value_and_long_tails_are_thinned():
    import numpy as np

    from publisher.core.ratings import Ratings, Scale

    # 300 items rated by 1..300 users, never with a 5
    items = np.repeat(np.arange(300), np.arange(1, 301))
    users = np.concatenate([np.arange(k) for k in range(1, 301)])
    values = (items % 4 + 1).astype(float)
    table = Ratings.from_columns(users, items, values, scale=Scale(1, 5, 1))
    out = distributions(table, table)
    assert out["rating_histogram"]["original"][-1] == 0  # the unused top value is listed
    assert len(out["rating_histogram"]["original"]) == 5
    curve = out["item_popularity"]["original"]
    assert curve[0] == [1, 300]
    assert curve[-1] == [300, 1]
    assert 60 <= len(curve) <= 100  # about 100 log-spaced ranks, not all 300
    ranks = [rank for rank, _ in curve]
    assert ranks == sorted(set(ranks))


def test_items_without_ratings_are_not_on_the_popularity_curve(tiny):
    # tiny's item codes 0..3; dropping every rating of the second item leaves a gap
    frame = tiny.frame
    second = sorted(frame["item"].unique())[1]
    released = tiny.with_frame(frame[frame["item"] != second].reset_index(drop=True))
    curve = distributions(tiny, released)["item_popularity"]["released"]
    assert curve == [[1, 4], [2, 2], [3, 2]]  # items 1, 3, 4; no [4, 0] for item 2
    assert all(count > 0 for _, count in curve)
