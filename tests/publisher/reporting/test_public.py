"""The public bundle leaks no exact figure of the original data (issue 14, item 3).

Three checks, from the structure down to the bytes:

1. every non-null field of a public report.json is on the allowed list
   (:data:`publisher.reporting.public.PUBLIC_FIELDS`);
2. every number in every text file of a public bundle is explained by the public
   report.json, the policy, the manifest or the template's own wording; the same check
   run on the review copy finds the original's counts, so it can fail;
3. with ``microdata: false``, two datasets that differ by one customer give public
   bundles whose files are byte-identical apart from the noisy tables (and their
   hashes) and the time of the run: nothing else depends on the data.
"""

import html
import json
import re
from pathlib import Path

import pytest

from policies import parse_policy
from publisher.demo import demo_data
from publisher.engine.release import release
from publisher.engine.verify import verify_bundle
from publisher.readers import read_ratings
from publisher.reporting.public import PUBLIC_FIELDS, field_paths, public_view

from tests.conftest import TEST_KEYS

pytestmark = pytest.mark.release  # a real release per module: not in mutation runs

MICRODATA = """name: m
description: Pseudonyms, rare items dropped, decoys, dates jittered and to the month, noisy ratings.
steps:
  - pseudonymize_users: {}
  - drop_rare_items: {min_raters: 10}
  - jitter_dates: {max_days: 10}
  - coarsen_dates: {to: month}
  - perturb_ratings: {epsilon: 2}
  - insert_ratings: {fraction: 0.02}
audits: {targets: 200}
gate: {max_reidentification_rate: 1.0, max_rmse_increase: 2.0, max_decoy_auc: 1.0}
aggregates:
  epsilon: 1.0
  max_ratings_per_user: 50
  statistics: [item_count, rating_histogram]
  domain: {items: {catalogue: CATALOGUE, column: movieId}}
"""
AGGREGATES_ONLY = """name: a
steps: [{pseudonymize_users: {}}]
aggregates:
  epsilon: 1.0
  max_ratings_per_user: 50
  microdata: false
  statistics: [item_count, item_mean, rating_histogram, {ratings_per_period: {period: year}}]
  domain:
    items: {catalogue: CATALOGUE, column: movieId}
    dates: {from: 1996-01-01, to: 2018-12-31}
"""
CATALOGUE = demo_data("movies.csv")
TEXT_FILES = ("report.json", "report.md", "report.html", "DATASHEET.md", "policy.yaml")


def policy(text):
    return parse_policy(text.replace("CATALOGUE", CATALOGUE.name), "p", base=CATALOGUE.parent)


@pytest.fixture(scope="module")
def microdata_release(tmp_path_factory):
    out = tmp_path_factory.mktemp("public") / "bundle"
    result = release(demo_data(), policy(MICRODATA), out, key=TEST_KEYS, seed=5)
    return out, result


def allowed(path):
    return any(path == p or path.startswith((p + ".", p + "[]")) for p in PUBLIC_FIELDS)


def test_every_public_field_is_on_the_allowed_list(microdata_release):
    out, result = microdata_release
    public = json.loads((out / "report.json").read_text())
    assert public["view"] == "public"
    assert public == public_view(result.report) | {"created": public["created"]}
    paths = field_paths(public)
    assert [p for p in paths if not allowed(p)] == []
    # and what the list leaves out is really there in the review view, and withheld here
    review = json.loads((out.with_name("bundle.review") / "report.json").read_text())
    withheld = sorted(set(field_paths(review)) - set(paths))
    for path in (
        "input.sha256",
        "input.counts.ratings",
        "steps[].before.ratings",
        "linkage[].original.reidentified",
        "utility.mf_rmse_increase",
        "utility.kept.ratings",
        "distributions.rating_histogram.original",
        "date_recovery[].original.recovered",
        "distinguishability.synthetic_rows",  # the decoy count gives the original's size
    ):
        assert path in withheld, path
    for path in ("date_recovery[].released.recovered", "distinguishability.auc"):
        assert path in paths, path  # the new audits are published in all three forms
    for name in ("report.md", "report.html"):
        text = (out / name).read_text()
        assert "Dates and decoys" in text
        assert "ROC AUC" in text


# ------------------------------------------------------------------ every number
NUMBER = re.compile(r"(?<![\w.#-])\d[\d,]*(?:\.\d+)?")
# Wording of the templates themselves: citations, the confidence level, hash names.
TEMPLATE_NUMBERS = {"95", "2008", "2021", "256", "1", "0", "10", "100", "16", "64"}


def numbers_in(text):
    return {m.group().replace(",", "").rstrip(".") for m in NUMBER.finditer(text)}


def formatted(value):
    """The ways the views write a number of report.json."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {str(value)}
    out = {f"{value:g}", f"{value:.4g}", f"{value:.2f}", f"{value:.3f}", f"{value:.4f}"}
    out |= {f"{100 * value:.1f}", f"{100 * value:.2f}", f"{100 * value:.0f}", str(value)}
    return {o.replace(",", "") for o in out}


def leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def explained_numbers(folder):
    """Every number the public view's figures, the policy and the manifest account for.

    Free text of report.json (warnings, notes, drivers, failures, descriptions) explains
    nothing by itself: each number in it must be a figure of a public field or of the
    policy, so a caveat that quotes the original's figures is caught (issue 24.19).
    """
    report = json.loads((folder / "report.json").read_text())
    manifest = (folder / "MANIFEST.json").read_text()
    ok = set(TEMPLATE_NUMBERS) | numbers_in((folder / "policy.yaml").read_text())
    ok |= numbers_in(manifest)
    for leaf in leaves(report):
        if isinstance(leaf, int | float):
            ok |= formatted(leaf)
    for table in (folder / "aggregates").glob("*.csv"):  # the declared domain's rows
        rows = len(table.read_text().splitlines()) - 1
        ok.add(str(rows))
    if report["released"] is not None:  # the datasheet's and reports' counts of the release
        ok |= {str(v) for v in report["released"].values()}
    ok |= {str(k) for k in range(13)}  # row numbers, indices
    return ok


def visible_text(page):
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def unexplained(folder, explained_by=None):
    """Numbers in the reports of ``folder`` that the public files of ``explained_by``
    (by default the folder itself) do not account for, by file."""
    ok = explained_numbers(explained_by or folder)
    found = {}
    texts = {
        name: (folder / name).read_text()
        for name in ("report.md", "DATASHEET.md", "report.html")
        if (folder / name).exists()
    }
    report = json.loads((folder / "report.json").read_text())
    texts["report.json (free text)"] = "\n".join(
        leaf for leaf in leaves(report) if isinstance(leaf, str)
    )
    for name, text in texts.items():
        text = visible_text(text) if name.endswith(".html") else text
        extra = numbers_in(text) - ok
        if extra:
            found[name] = sorted(extra)
    return found


def test_every_number_in_the_public_bundle_is_explained(microdata_release):
    out, result = microdata_release
    assert unexplained(out) == {}
    # The check has teeth: on the review copy it finds the original's own figures.
    review = unexplained(out.with_name("bundle.review"), explained_by=out)
    original = result.report["input"]["counts"]
    assert str(original["ratings"]) in review["report.md"]
    assert str(original["items"]) in review["report.md"]


def test_no_exact_original_figure_anywhere_in_the_public_bundle(microdata_release):
    out, result = microdata_release
    full = result.report
    secrets = {
        f"{full['input']['counts']['ratings']:,}",
        str(full["input"]["counts"]["ratings"]),
        f"{full['input']['counts']['items']:,}",
        full["input"]["sha256"],
    }
    released = full["released"]["ratings"]
    secrets |= {f"{s['before']['ratings']:,}" for s in full["steps"]} - {f"{released:,}"}
    for file in out.rglob("*"):
        if file.is_file() and file.suffix in (".json", ".md", ".html", ".yaml", ".csv"):
            text = file.read_text()
            for secret in secrets:
                assert secret not in text, f"{secret} in {file.name}"


# ------------------------------------------------------------------ neighbours
def neighbour_csv(folder: Path) -> Path:
    """The demo data without its heaviest rater: a neighbouring dataset."""
    ratings = read_ratings(demo_data())
    frame = ratings.frame
    heavy = frame["user"].value_counts().index[0]
    lines = demo_data().read_text().splitlines()
    kept = [lines[0]] + [
        line for line in lines[1:] if line.split(",", 1)[0] != str(ratings.user_ids[heavy])
    ]
    assert len(kept) < len(lines) - 1000  # the heaviest rater has thousands of ratings
    path = folder / "ratings.csv"
    path.write_text("\n".join(kept) + "\n")
    return path


def masked(text):
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<created>", text)


def test_aggregates_only_bundles_of_neighbours_differ_only_in_noisy_tables(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "n").mkdir()
    source = tmp_path / "d" / "ratings.csv"
    source.write_text(demo_data().read_text())
    neighbour = neighbour_csv(tmp_path / "n")
    outs = []
    for name, data in (("a", source), ("b", neighbour)):
        out = tmp_path / name
        release(data, policy(AGGREGATES_ONLY), out, key=TEST_KEYS, seed=9)
        assert verify_bundle(out, key=TEST_KEYS).ok
        outs.append(out)
    a, b = outs
    files = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert "data/ratings.parquet" not in files
    for name in TEXT_FILES:
        assert masked((a / name).read_text()) == masked((b / name).read_text()), name
    manifests = [json.loads((x / "MANIFEST.json").read_text()) for x in (a, b)]
    for manifest in manifests:
        manifest.pop("created")
        manifest.pop("signature")
        for name in list(manifest["files"]):
            if name.startswith("aggregates/") or name in TEXT_FILES:
                manifest["files"].pop(name)  # noisy tables; texts compared above
    assert manifests[0] == manifests[1]
    assert "sha256" not in manifests[0]["input"]
    # The noisy tables have the same rows; only their values moved.
    for table in ("item_count", "item_mean", "rating_histogram", "ratings_per_period"):
        rows = [(x / "aggregates" / f"{table}.csv").read_text().splitlines() for x in (a, b)]
        keys = [[line.rsplit(",", 2 if table == "item_mean" else 1)[0] for line in r] for r in rows]
        assert keys[0] == keys[1], table
    # And the review copies, which do hold exact figures, do differ.
    reviews = [
        json.loads((x.with_name(x.name + ".review") / "report.json").read_text()) for x in (a, b)
    ]
    assert reviews[0]["input"]["counts"]["ratings"] != reviews[1]["input"]["counts"]["ratings"]


def test_a_caveat_citing_the_original_never_reaches_the_public_view(tmp_path, monkeypatch):
    # Issue 24.19: the inversion warning quoted the ORIGINAL's figures and intervals (which
    # give its target count) in the public linkage[].warnings and summary.notes.
    import audits.linkage
    import publisher.engine.simulate

    monkeypatch.setattr(audits.linkage, "exceeds", lambda result, *a: True)
    monkeypatch.setattr(publisher.engine.simulate, "exceeds", lambda result, *a: True)
    text = MICRODATA.replace("audits: {targets: 200}", "audits: {targets: 60}")
    out = tmp_path / "bundle"
    result = release(demo_data(), policy(text), out, key=TEST_KEYS, seed=5)
    review = result.report
    cited = [w for entry in review["linkage"] for w in entry["review_warnings"]]
    assert cited
    assert all("more re-identifiable than the unprotected data" in w for w in cited)
    assert all("explains most of it" in w for w in cited)  # explain_inversions added to them
    public = json.loads((out / "report.json").read_text())
    assert all(entry["review_warnings"] is None for entry in public["linkage"])
    public_text = json.dumps(public) + (out / "report.md").read_text()
    public_text += (out / "report.html").read_text() + (out / "DATASHEET.md").read_text()
    assert "unprotected data, beyond the intervals" not in public_text
    assert unexplained(out) == {}
    assert set(cited) <= set(review["summary"]["notes"])  # the review copy keeps them


def test_a_dp_only_bundle_takes_its_scale_from_the_declaration_never_the_data(tmp_path):
    # Issue 24.15: the only customer who gave a 5 changed input.scale (inferred 1:5 vs
    # 1:4) in the public report.json and the datasheet of a microdata: false release.
    rows = [f"u{u},{i},{1 + (u + i) % 4},2005-01-0{1 + i % 9}" for u in range(40) for i in range(9)]
    with_top = rows + [f"top,{i},5,2005-01-02" for i in range(3)]
    text = AGGREGATES_ONLY.replace("domain:\n", "domain:\n    scale: '1:5:1'\n")
    outs = []
    for name, lines in (("with", with_top), ("without", rows)):
        (tmp_path / name).mkdir()
        data = tmp_path / name / "data.csv"  # a generic CSV: its scale is inferred
        data.write_text("user,item,rating,date\n" + "\n".join(lines) + "\n")
        out = tmp_path / f"{name}-bundle"
        release(data, policy(text), out, key=TEST_KEYS, seed=9)
        outs.append(out)
    reports = [json.loads((out / "report.json").read_text()) for out in outs]
    assert reports[0]["input"]["scale"] == reports[1]["input"]["scale"] == "1:5:1"
    for name in ("report.json", "DATASHEET.md", "report.md"):
        texts = [masked((out / name).read_text()) for out in outs]
        assert texts[0] == texts[1], name
