"""The knowledge models: where the attacker's knowledge of a target comes from."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits import LinkageAudit
from audits._index import IndexedTable
from audits.knowledge import (
    draw_knowledge,
    eligible_users,
    knowledge_pool,
    known_in_release,
)
from audits.portfolio import SCORERS
from policies.steps import DropRareItems
from publisher.core import Adversary
from publisher.core.adversary import KNOWLEDGE_MODELS
from publisher.core.ratings import Ratings, Scale


def random_table(seed, users=30, items=25, per_user=8):
    rng = np.random.default_rng(seed)
    rows = [
        (u, int(i), int(rng.integers(1, 6)))
        for u in range(users)
        for i in rng.choice(items, per_user, replace=False)
    ]
    u, i, v = zip(*rows, strict=True)
    return IndexedTable(Ratings.from_columns(list(u), list(i), list(v), scale=Scale(1, 5, 1)))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    kept=st.integers(1, 24),
    known=st.integers(1, 4),
    wrong=st.integers(0, 2),
)
def test_the_released_draw_never_names_an_item_absent_from_the_release(seed, kept, known, wrong):
    original = random_table(seed)
    rng = np.random.default_rng(seed)
    present = np.zeros(original.by_item.support().shape, bool)
    present[rng.choice(len(present), kept, replace=False)] = True
    adversary = Adversary(known_items=known + wrong, wrong_items=wrong)
    pool = knowledge_pool("released", original, adversary, present)
    targets = eligible_users(original, adversary, pool)
    aux = draw_knowledge(original, adversary, targets, pool, rng)
    slots = np.arange(aux.items.shape[1])[None, :] < aux.length[:, None]
    assert present[aux.items[slots]].all()  # wrong items too
    # and every eligible target has its true items among the listed ones
    if len(targets):
        assert known_in_release(aux, present) == pytest.approx(aux.length.mean())


def test_eligibility_counts_only_the_pool():
    # user 0 rated items 0-3, user 1 items 0-1: with items 2-3 gone, only user 0 has 2 of
    # the 2 listed ... and so has user 1
    original = IndexedTable(
        Ratings.from_columns([0, 0, 0, 0, 1, 1], [0, 1, 2, 3, 0, 1], [1, 2, 3, 4, 5, 5])
    )
    present = np.array([True, True, False, False])
    three = Adversary(known_items=3)
    assert eligible_users(
        original, three, knowledge_pool("original", original, three)
    ).tolist() == [0]
    assert (
        eligible_users(
            original, three, knowledge_pool("released", original, three, present)
        ).tolist()
        == []
    )
    two = Adversary(known_items=2)
    assert eligible_users(
        original, two, knowledge_pool("released", original, two, present)
    ).tolist() == [0, 1]


def test_known_in_release_by_hand():
    from audits.scoreboard import AuxiliaryInformation

    aux = AuxiliaryInformation(
        targets=np.array([0, 1]),
        items=np.array([[0, 2, 0], [1, 3, 2]], np.int32),
        rating=np.zeros((2, 3), np.int64),
        day=np.zeros((2, 3), np.int64),
        length=np.array([2, 3]),  # the first row's third slot is padding
        use_dates=False,
    )
    assert known_in_release(aux, np.array([True, True, False, False])) == pytest.approx((1 + 1) / 2)


def test_popular_knowledge_follows_the_items_raters():
    """Seeded: item 0 has 40 raters, the others 4 each; a customer who rated item 0 and
    three others is known by item 0 (1 item drawn) with probability 40 / (40 + 12) =
    0.77; uniformly it would be 0.25. Tolerance: 600 draws, 4 standard errors (0.07)."""
    users, items = [], []
    for u in range(40):
        mine = [0] + [1 + (3 * u + j) % 30 for j in range(3)]
        users += [u] * 4
        items += mine
    original = IndexedTable(Ratings.from_columns(users, items, [3] * len(users)))
    adversary = Adversary(known_items=1)
    rng = np.random.default_rng(5)
    pool = knowledge_pool("popular", original, adversary)
    code0 = list(original.ratings.item_ids).index(0)
    targets = np.repeat(np.arange(40), 15)
    drawn = draw_knowledge(original, adversary, targets, pool, rng).items[:, 0]
    # each customer's three other items have 4 raters each: 40 / (40 + 12)
    assert (drawn == code0).mean() == pytest.approx(40 / 52, abs=0.07)
    uniform = draw_knowledge(
        original, adversary, targets, knowledge_pool("original", original, adversary), rng
    ).items[:, 0]
    assert (uniform == code0).mean() == pytest.approx(0.25, abs=0.07)


def test_unknown_knowledge_model_is_refused():
    original = random_table(0)
    with pytest.raises(ValueError, match="unknown knowledge model 'gossip'"):
        knowledge_pool("gossip", original, Adversary(known_items=2))


@pytest.fixture(scope="module")
def hidden_by_deletion():
    """Planted: each of 60 customers rated 8 films nobody else rated and 4 of 20 shared
    films (ratings at random). The release drops every film with fewer than 2 raters:
    what an attacker who knows 4 ratings drawn from the ORIGINAL knows is mostly gone
    (all four survive with probability 1 / C(12, 4) = 0.2%); an attacker who keeps what
    they know of listed films knows 4 shared films with their ratings."""
    rng = np.random.default_rng(11)
    users, items, values = [], [], []
    for u in range(60):
        own = [1000 + 8 * u + j for j in range(8)]
        shared = rng.choice(20, 4, replace=False).tolist()
        for i in own + shared:
            users.append(u)
            items.append(i)
            values.append(int(rng.integers(1, 6)))
    original = Ratings.from_columns(users, items, values, scale=Scale(1, 5, 1))
    released = DropRareItems(min_raters=2).transform(original, np.random.default_rng(1))
    audit = LinkageAudit(
        original, released, adversary=Adversary(known_items=4), n_targets=60,
        rng=np.random.default_rng(2),
    )  # fmt: skip
    return audit.evaluate().results()


def test_knowledge_of_deleted_items_hides_a_customer_survivor_knowledge_finds(hidden_by_deletion):
    result = hidden_by_deletion
    stats = {k.model: k for k in result.knowledge}
    assert stats["released"].known_in_release == 4.0
    assert stats["original"].known_in_release < 2.0  # 4 x 4/12 on average
    best = {
        model: max(
            result.get(model, s).released.risk().value for s in ("scoreboard-rh", "likelihood")
        )
        for model in KNOWLEDGE_MODELS
    }
    assert best["original"] < 0.35
    assert best["released"] > 0.8
    # the figure every report and the gate read is the released model's
    assert result.worst().knowledge == "released"
    assert result.risk().value == pytest.approx(
        max(a.released.risk().value for a in result.attacks)
    )


def test_the_worst_case_is_the_max_over_knowledge_models_and_scorers(hidden_by_deletion):
    result = hidden_by_deletion
    figures = {(a.knowledge, a.scorer): a.released.risk().value for a in result.attacks}
    assert len(figures) == len(KNOWLEDGE_MODELS) * len(SCORERS)  # every model x scorer ran
    assert result.released.risk().value == max(figures.values())
    assert result.original.risk().value == max(
        o.risk().value for a in result.attacks for o in (a.original, a.simulated) if o is not None
    )
