import json

import pytest

from publisher.bundle import MANIFEST, build_manifest, staging, verify_bundle
from publisher.errors import BundleVerificationError, PublisherError

KEY = b"organizer-key-0123456789"


def make_bundle(tmp_path, key=None):
    out = tmp_path / "bundle"
    with staging(out) as root:
        (root / "data").mkdir()
        (root / "data" / "a.bin").write_bytes(b"abc")
        (root / "notes.md").write_text("hello")
        manifest = build_manifest(root, {"tool": "t"}, key=key)
        (root / MANIFEST).write_text(json.dumps(manifest))
    return out


def test_manifest_hashes_are_sha256(tmp_path):
    out = make_bundle(tmp_path)
    manifest = json.loads((out / MANIFEST).read_text())
    # sha256("abc"), the FIPS 180-2 test vector
    assert manifest["files"]["data/a.bin"] == {
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "bytes": 3,
    }
    assert verify_bundle(out).ok


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda o: (o / "notes.md").write_text("hellp"), "changed: notes.md (SHA-256 differs)"),
        (
            lambda o: (o / "notes.md").write_text("hell"),
            "changed: notes.md (4 bytes, manifest says 5)",
        ),
        (lambda o: (o / "notes.md").unlink(), "missing: notes.md"),
        (lambda o: (o / "extra.txt").write_text("x"), "extra: extra.txt"),
        (lambda o: (o / "notes.md").rename(o / "renamed.md"), "missing: notes.md"),
    ],
)
def test_verify_names_each_problem(tmp_path, tamper, problem):
    out = make_bundle(tmp_path)
    tamper(out)
    result = verify_bundle(out)
    assert not result.ok
    assert problem in result.problems


def test_signature_proves_origin(tmp_path):
    out = make_bundle(tmp_path, key=KEY)
    assert verify_bundle(out, key=KEY).origin == "verified"
    assert verify_bundle(out).origin == "not checked"
    wrong = verify_bundle(out, key=b"another-key-0123456789")
    assert wrong.problems == [
        "origin: the signature does not match (another key, or an altered manifest)"
    ]


def test_rewritten_manifest_fails_origin_but_passes_integrity(tmp_path):
    out = make_bundle(tmp_path, key=KEY)
    (out / "notes.md").write_text("forged")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"]["notes.md"] = {
        "sha256": __import__("hashlib").sha256(b"forged").hexdigest(),
        "bytes": 6,
    }
    (out / MANIFEST).write_text(json.dumps(manifest))
    assert verify_bundle(out).ok  # integrity alone cannot catch a rewritten manifest
    assert not verify_bundle(out, key=KEY).ok


def test_unsigned_bundle_with_key_is_reported(tmp_path):
    out = make_bundle(tmp_path)
    assert verify_bundle(out, key=KEY).problems == ["origin: the manifest is not signed"]


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleVerificationError, match=r"no MANIFEST\.json; not a bundle"):
        verify_bundle(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(BundleVerificationError, match="unreadable manifest"):
        verify_bundle(tmp_path)


def test_staging_failure_leaves_nothing(tmp_path):
    out = tmp_path / "bundle"

    def fail_midway():
        with staging(out) as root:
            (root / "partial").write_text("x")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_midway()
    assert list(tmp_path.iterdir()) == []


def test_staging_refuses_existing_without_overwrite_and_swaps_with_it(tmp_path):
    out = make_bundle(tmp_path)
    with pytest.raises(PublisherError, match="already exists; pass --overwrite"), staging(out):
        pass
    with staging(out, overwrite=True) as root:
        (root / "new").write_text("y")
    assert sorted(p.name for p in out.iterdir()) == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_stale_temporary_folders_are_removed(tmp_path):
    stale = tmp_path / ".bundle.tmp-deadbeef"
    stale.mkdir()
    make_bundle(tmp_path)
    assert not stale.exists()
