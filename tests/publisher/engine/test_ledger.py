"""Repeated releases of one population: own pseudonyms by default; linkable ones on purpose,
with a signed ledger that refuses a release taking the running total above its budget."""

import json

import pandas as pd
import pytest

from policies import parse_policy
from publisher.core.errors import PolicyError, PublisherError
from publisher.core.ratings import Scale
from publisher.engine.keys import Keys
from publisher.engine.release import release
from publisher.readers import ReadOptions

from tests.conftest import TEST_KEYS
from tests.test_cli import SMALL

pytestmark = pytest.mark.release  # real releases: not in mutation runs

STARS = ReadOptions(scale=Scale(1, 5, 1))
PER_RELEASE = """name: p
steps: [{pseudonymize_users: {}}, {perturb_ratings: {epsilon: 2}}]
audits: {targets: 20}
gate: none
"""
LINKABLE = PER_RELEASE.replace(
    "{pseudonymize_users: {}}", "{pseudonymize_users: {linkable: true, total_epsilon: 3}}"
)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(SMALL)
    return path


def pseudonyms(out):
    return set(pd.read_parquet(out / "data" / "ratings.parquet")["user"].astype(str))


def test_each_release_gets_its_own_pseudonyms(data, tmp_path):
    # Issue 24.16: three releases under one key shared every pseudonym, so randomized
    # response averaged out over them (2 of 3 agreeing: the true rating 41.8% of the time).
    policy = parse_policy(PER_RELEASE)
    outs = [tmp_path / f"r{k}" for k in range(3)]
    results = [release(data, policy, out, key=TEST_KEYS, reading=STARS) for out in outs]
    sets = [pseudonyms(out) for out in outs]
    assert [len(s) for s in sets] == [len(sets[0])] * 3
    assert len(sets[0]) == 20  # the customers of SMALL
    assert len(sets[0] | sets[1] | sets[2]) == 3 * len(sets[0])  # no pseudonym shared
    ids = [r.manifest["release"]["id"] for r in results]
    assert len(set(ids)) == 3
    assert [r.report["release"] for r in results] == [
        {"id": i, "pseudonyms": "per-release", "ledger": None} for i in ids
    ]
    public = json.loads((outs[0] / "report.json").read_text())
    assert public["release"]["id"] == ids[0]  # public: a random id, nothing of the data


def test_a_seeded_release_repeats_its_pseudonyms_exactly(data, tmp_path):
    policy = parse_policy(PER_RELEASE)
    a = release(data, policy, tmp_path / "a", key=TEST_KEYS, seed=4, reading=STARS)
    b = release(data, policy, tmp_path / "b", key=TEST_KEYS, seed=4, reading=STARS)
    c = release(data, policy, tmp_path / "c", key=TEST_KEYS, seed=5, reading=STARS)
    assert a.manifest["release"] == b.manifest["release"] != c.manifest["release"]
    assert pseudonyms(tmp_path / "a") == pseudonyms(tmp_path / "b")
    assert not pseudonyms(tmp_path / "a") & pseudonyms(tmp_path / "c")


def test_linkable_pseudonyms_need_a_ledger_that_bounds_their_running_total(data, tmp_path):
    policy = parse_policy(LINKABLE)
    with pytest.raises(PolicyError, match=r"pseudonymize_users\.linkable: .* pass --ledger FILE"):
        release(data, policy, tmp_path / "x", key=TEST_KEYS, reading=STARS)
    ledger = tmp_path / "ledger.json"
    with pytest.raises(PolicyError, match="stable pseudonyms need the organizer's key"):
        release(data, policy, tmp_path / "x", ledger=ledger, reading=STARS)
    first = release(data, policy, tmp_path / "one", key=TEST_KEYS, ledger=ledger, reading=STARS)
    assert first.report["release"]["ledger"] == {
        "releases": 1, "per_rating_epsilon": 2.0, "aggregate_epsilon": 0.0, "total_epsilon": 3.0
    }  # fmt: skip
    assert "compose over them" in first.report["privacy_budget"]["statement"]
    recorded = json.loads(ledger.read_text())
    assert [e["release"] for e in recorded["releases"]] == [first.manifest["release"]["id"]]
    # the second would spend 2 more per rating: 4 in all, above the declared 3
    with pytest.raises(PolicyError) as caught:
        release(data, policy, tmp_path / "two", key=TEST_KEYS, ledger=ledger, reading=STARS)
    assert str(caught.value) == (
        f"{ledger}: this linkable release would spend epsilon per rating (randomized response) "
        "2 on top of the 2 its 1 earlier release(s) spent: 4 in all, more than the declared "
        "total_epsilon 3; the noise of releases whose pseudonyms link composes"
    )
    assert not (tmp_path / "two").exists()
    # and they link: the same customers carry the same pseudonyms in every linkable release
    cheaper = parse_policy(LINKABLE.replace("epsilon: 2}", "epsilon: 0.5}"))
    release(data, cheaper, tmp_path / "three", key=TEST_KEYS, ledger=ledger, reading=STARS)
    assert pseudonyms(tmp_path / "one") == pseudonyms(tmp_path / "three")


@pytest.mark.parametrize("tamper", ["deleted-entry", "another-key", "not-json"])
def test_an_edited_or_foreign_ledger_is_refused(data, tmp_path, tamper):
    policy = parse_policy(LINKABLE.replace("epsilon: 2}", "epsilon: 1}"))
    ledger = tmp_path / "ledger.json"
    release(data, policy, tmp_path / "one", key=TEST_KEYS, ledger=ledger, reading=STARS)
    if tamper == "deleted-entry":  # hiding spent budget
        book = json.loads(ledger.read_text())
        book["releases"] = []
        ledger.write_text(json.dumps(book))
        expected = "the ledger's signature does not match: it was edited"
        key = TEST_KEYS
    elif tamper == "another-key":
        expected, key = (
            "the ledger of another organizer key",
            Keys.derive(b"another-organizer-key-0123"),
        )
    else:
        ledger.write_text("{")
        expected, key = "not a ledger of this tool", TEST_KEYS
    with pytest.raises(PublisherError, match=expected):
        release(data, policy, tmp_path / "two", key=key, ledger=ledger, reading=STARS)


def test_a_ledger_with_per_release_pseudonyms_is_refused(data, tmp_path):
    with pytest.raises(PolicyError, match="gives each release its own pseudonyms"):
        release(
            data, parse_policy(PER_RELEASE), tmp_path / "x", key=TEST_KEYS,
            ledger=tmp_path / "l.json", reading=STARS,
        )  # fmt: skip


def test_linkable_needs_total_epsilon_at_load():
    with pytest.raises(PolicyError, match=r"pseudonymize_users\.total_epsilon: must be a number"):
        parse_policy(
            PER_RELEASE.replace(
                "{pseudonymize_users: {}}", "{pseudonymize_users: {linkable: true}}"
            )
        )
