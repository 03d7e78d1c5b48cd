import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.demo import demo_data
from publisher.engine import report_files as rerender_module
from publisher.reporting.report_json import validate_report

from tests.conftest import KEYED

pytestmark = pytest.mark.slow  # real releases: run with -m slow or the full suite

GATED = """
name: gated
steps:
  - pseudonymize_users: {{}}
  - coarsen_dates: {{to: month}}
audits:
  targets: 200
gate:
  max_reidentification_rate: {rate}
"""


@pytest.fixture(scope="module")
def ml_small():
    return demo_data()


def policy_file(tmp_path, rate):
    path = tmp_path / f"gate-{rate}.yaml"
    path.write_text(GATED.format(rate=rate))
    return path


def invoke(*args):
    # A seeded release of noise needs the key: the tests' own, not a secret.
    return CliRunner().invoke(main, [str(a) for a in args], env=KEYED)


def test_gate_pass_publishes_with_all_report_files(tmp_path, ml_small):
    out = tmp_path / "ok"
    result = invoke(
        "release", ml_small, "-p", policy_file(tmp_path, 1.0), "-o", out, "--seed", 1, "-q"
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "DATASHEET.md",
        "MANIFEST.json",
        "data",
        "policy.yaml",
        "report.html",
        "report.json",
        "report.md",
    ]
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "pass"
    assert validate_report(report) == []
    assert [c["passed"] for c in report["gate"]["checks"]] == [True, True, True]
    verified = invoke("verify", out)
    assert verified.exit_code == 0
    assert verified.stdout.splitlines()[1].startswith("verdict PASS; worst on the release (")


def test_gate_fail_exits_3_writes_report_beside_and_no_data(tmp_path, ml_small):
    out = tmp_path / "release"
    result = invoke(
        "release", ml_small, "-p", policy_file(tmp_path, 0.0), "-o", out, "--seed", 1, "-q"
    )
    assert result.exit_code == 3
    rejected = tmp_path / "release.rejected"
    assert result.stderr.startswith("Error: release rejected by the gate (3 of 3 checks failed: ")
    assert result.stderr.endswith(f"report written to {rejected}; no data was published\n")
    assert not out.exists()
    assert sorted(p.name for p in rejected.iterdir()) == [
        "MANIFEST.json",
        "policy.yaml",
        "report.html",
        "report.json",
        "report.md",
    ]
    report = json.loads((rejected / "report.json").read_text())
    assert report["verdict"] == "fail"
    assert len(report["gate"]["failures"]) == 3
    assert "**Verdict: FAIL" in (rejected / "report.md").read_text()
    assert invoke("verify", rejected).exit_code == 0


def test_not_gated_policy(tmp_path, ml_small):
    policy = tmp_path / "p.yaml"
    policy.write_text("name: open\nsteps: [{pseudonymize_users: {}}]\naudits: {targets: 50}\n")
    refused = invoke("audit", ml_small, "-p", policy, "-q")
    assert refused.exit_code == 1  # issue 24.20: no gate at all is not a way to publish
    assert "gate: the policy sets no gate, so a release would be published whatever its" in (
        refused.stderr
    )
    policy.write_text(policy.read_text() + "gate: none\n")
    result = invoke("audit", ml_small, "-p", policy, "--json", tmp_path / "r.json", "-q")
    assert result.exit_code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"] == "not-gated"
    assert report["gate"]["ungated"] is True
    out = tmp_path / "bundle"
    assert invoke("release", ml_small, "-p", policy, "-o", out, "-q").exit_code == 0
    shown = "NOT GATED: the policy declares 'gate: none', so no risk threshold was checked"
    assert shown in (out / "report.md").read_text().splitlines()[2]
    assert shown in (out / "DATASHEET.md").read_text()
    assert "gate: none" in (out / "report.html").read_text()


def test_schema_rejects_a_broken_report(tmp_path, ml_small):
    out = tmp_path / "ok"
    invoke("release", ml_small, "-p", policy_file(tmp_path, 1.0), "-o", out, "--seed", 1, "-q")
    report = json.loads((out / "report.json").read_text())
    del report["linkage"][0]["released"]["reidentified_ci"]
    report["verdict"] = "probably fine"
    assert validate_report(report) == [
        "linkage/0/released: 'reidentified_ci' is a required property",
        "verdict: 'probably fine' is not one of ['pass', 'fail', 'not-gated']",
    ]


def test_verify_catches_a_schema_violation_even_with_a_matching_manifest(tmp_path, ml_small):
    out = tmp_path / "ok"
    invoke("release", ml_small, "-p", policy_file(tmp_path, 1.0), "-o", out, "--seed", 1, "-q")
    path = out / "report.json"
    report = json.loads(path.read_text())
    report["verdict"] = "great"
    path.write_text(json.dumps(report))
    from publisher.engine.bundle import build_manifest

    manifest = json.loads((out / "MANIFEST.json").read_text())
    meta = {k: v for k, v in manifest.items() if k not in ("schema", "files")}
    (out / "MANIFEST.json").write_text(json.dumps(build_manifest(out, meta)))
    result = invoke("verify", out)
    assert result.exit_code == 4
    assert "report.json: verdict: 'great' is not one of" in result.stdout


def test_report_rerenders_deterministically_and_refuses_tampered(tmp_path, ml_small, monkeypatch):
    out = tmp_path / "ok"
    args = ["release", ml_small, "-p", policy_file(tmp_path, 1.0), "-o", out, "-q"]
    # Without a key (so no seed either): an unsigned manifest, re-signed by nobody.
    CliRunner().invoke(main, [str(a) for a in args], env={"PUBLISHER_KEY": None})
    unchanged = invoke("report", out)
    assert unchanged.exit_code == 0
    assert "nothing changed" in unchanged.stdout
    # a newer renderer: the files change, the manifest follows, the bundle still verifies
    original = rerender_module.render_markdown
    monkeypatch.setattr(
        rerender_module, "render_markdown", lambda r: original(r) + "\nnew footer\n"
    )
    changed = invoke("report", out)
    assert changed.exit_code == 0
    assert "(report.md)" in changed.stdout
    assert (out / "report.md").read_text().endswith("new footer\n")
    assert invoke("verify", out).exit_code == 0
    (out / "report.json").write_text("{}")
    tampered = invoke("report", out)
    assert tampered.exit_code == 4
    assert "does not verify (changed: report.json" in tampered.stderr


def test_signed_bundle_needs_key_to_rerender(tmp_path, ml_small, monkeypatch):
    key = tmp_path / "k"
    key.write_text("organizer-key-for-tests-123")
    out = tmp_path / "ok"
    invoke(
        "release",
        ml_small,
        "-p",
        policy_file(tmp_path, 1.0),
        "-o",
        out,
        "--seed",
        1,
        "--key-file",
        key,
        "-q",
    )
    original = rerender_module.render_html
    monkeypatch.setattr(rerender_module, "render_html", lambda r: original(r) + "<!-- v2 -->")
    refused = invoke("report", out)
    assert refused.exit_code == 1
    assert "the manifest is signed; pass --key-file" in refused.stderr
    assert invoke("report", out, "--key-file", key).exit_code == 0
    assert invoke("verify", out, "--key-file", key).exit_code == 0


def test_demo_tells_the_story(tmp_path):
    result = invoke("demo", "--out", tmp_path / "demo", "--seed", 2)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2].split()[1:5] == ["unprotected", "netflix-2006", "balanced", "strict"]
    assert "netflix-2006: REJECTED by its gate" in result.stdout
    reports = [Path(line.split("report: ")[1]) for line in lines if "report: " in line]
    assert len(reports) == 3
    assert all(path.is_file() for path in reports)


def test_report_never_signs_a_file_swapped_while_it_renders(tmp_path, ml_small, monkeypatch):
    # Issue 24.3: someone who can write to the bundle (no key) swaps the data between
    # verify and re-signing; the tool used to sign the forgery with the organizer's key.
    key = tmp_path / "k"
    key.write_text("organizer-key-for-tests-123")
    out = tmp_path / "ok"
    args = ("-p", policy_file(tmp_path, 1.0), "-o", out, "--seed", 1, "--key-file", key, "-q")
    assert invoke("release", ml_small, *args).exit_code == 0
    signed = (out / "MANIFEST.json").read_text()
    original = rerender_module.render_html

    def render_and_swap(report):
        (out / "data" / "ratings.parquet").write_bytes(b"forged data")  # the attacker's move
        return original(report) + "<!-- v2 -->"

    monkeypatch.setattr(rerender_module, "render_html", render_and_swap)
    result = invoke("report", out, "--key-file", key)
    assert result.exit_code == 4, result.output
    assert "changed while being re-rendered (changed: data/ratings.parquet" in result.stderr
    assert (out / "MANIFEST.json").read_text() == signed  # nothing re-signed
    assert invoke("verify", out, "--key-file", key).exit_code == 4  # the forgery shows


def test_report_rebinds_the_review_copy_to_the_rerendered_bundle(tmp_path, ml_small, monkeypatch):
    out = tmp_path / "ok"
    args = ("-p", policy_file(tmp_path, 1.0), "-o", out, "-q")
    CliRunner().invoke(
        main, ["release", str(ml_small), *map(str, args)], env={"PUBLISHER_KEY": None}
    )
    original = rerender_module.render_markdown
    monkeypatch.setattr(rerender_module, "render_markdown", lambda r: original(r) + "\nv2\n")
    assert invoke("report", out).exit_code == 0
    assert invoke("verify", out).exit_code == 0
    assert invoke("verify", tmp_path / "ok.review").exit_code == 0  # bound to the new manifest
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ok")) == [
        "ok", "ok.review"
    ]  # fmt: skip


def republish(out, change):
    """Edit a bundle file as someone without the key can: rewrite it and its manifest hashes."""
    from publisher.engine.bundle import build_manifest

    change(out)
    manifest = json.loads((out / "MANIFEST.json").read_text())
    meta = {k: v for k, v in manifest.items() if k not in ("schema", "files", "signature")}
    (out / "MANIFEST.json").write_text(json.dumps(build_manifest(out, meta)))


@pytest.mark.parametrize("edit", ["relabelled-review-view", "pass-beside-failures"])
def test_verify_judges_an_unsigned_report_by_its_content_not_its_labels(tmp_path, ml_small, edit):
    # Issue 24.5: anyone can update an unsigned bundle's hashes; verify trusted "view" and
    # "verdict" as written.
    out = tmp_path / "ok"
    CliRunner().invoke(
        main,
        ["release", str(ml_small), "-p", str(policy_file(tmp_path, 1.0)), "-o", str(out), "-q"],
        env={"PUBLISHER_KEY": None},
    )
    review = json.loads((tmp_path / "ok.review" / "report.json").read_text())

    def relabel(folder):
        (folder / "report.json").write_text(json.dumps({**review, "view": "public"}))

    def pass_anyway(folder):
        report = json.loads((folder / "report.json").read_text())
        report["gate"]["checks"][0]["passed"] = False
        report["gate"]["failures"] = ["x: 40.0% (upper bound) > 5.0%"]
        (folder / "report.json").write_text(json.dumps(report))

    republish(out, relabel if edit == "relabelled-review-view" else pass_anyway)
    result = invoke("verify", out)
    assert result.exit_code == 4, result.output
    expected = (
        "report.json: not the public view, so it carries exact figures of the original data"
        if edit == "relabelled-review-view"
        else "report.json: verdict 'pass' contradicts the gate's checks (1 of"
    )
    assert expected in result.stdout
    assert "verdict PASS" not in result.stdout


def test_verify_says_an_unsigned_bundle_proves_nothing_about_who_made_it(tmp_path, ml_small):
    out = tmp_path / "ok"
    CliRunner().invoke(
        main,
        ["release", str(ml_small), "-p", str(policy_file(tmp_path, 1.0)), "-o", str(out), "-q"],
        env={"PUBLISHER_KEY": None},
    )
    result = invoke("verify", out)
    assert result.exit_code == 0
    assert "the manifest is unsigned, so anyone could have written these files and their " in (
        result.stdout
    )
