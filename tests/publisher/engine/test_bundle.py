import hashlib
import json
import os

import pytest

from publisher.core.errors import BundleVerificationError
from publisher.engine.bundle import MANIFEST, build_manifest, load_json, printable
from publisher.engine.keys import Keys
from publisher.engine.verify import verify_bundle

KEY = b"organizer-key-0123456789"
KEYS = Keys.derive(KEY)
FILES = {
    "data/ratings.parquet": b"abc",
    "report.json": b"{}",
    "policy.yaml": b"name: p\n",
    "DATASHEET.md": b"# d\n",
    "notes.md": b"hello",
}


def make_bundle(tmp_path, key=None, files=FILES, **meta):
    out = tmp_path / "bundle"
    out.mkdir()
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    manifest = build_manifest(out, {"tool": {"name": "ratings-publisher"}, **meta}, key=key)
    (out / MANIFEST).write_text(json.dumps(manifest))
    return out


def rewrite_manifest(out, change):
    manifest = json.loads((out / MANIFEST).read_text())
    change(manifest)
    (out / MANIFEST).write_text(json.dumps(manifest))


def test_manifest_hashes_are_sha256(tmp_path):
    out = make_bundle(tmp_path)
    manifest = json.loads((out / MANIFEST).read_text())
    # sha256("abc"), the FIPS 180-2 test vector
    assert manifest["files"]["data/ratings.parquet"] == {
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "bytes": 3,
    }
    assert manifest["schema"] == "publisher.manifest/2"
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
        (lambda o: (o / "empty").mkdir(), "extra folder: empty/"),
        (lambda o: (o / "data" / "deeper").mkdir(), "extra folder: data/deeper/"),
        (lambda o: os.mkfifo(o / "pipe"), "not a regular file: pipe (FIFO; not in the manifest)"),
        (
            lambda o: (o / "link").symlink_to("/etc/passwd"),
            "not a regular file: link (symbolic link; not in the manifest)",
        ),
        (
            lambda o: (o / "a\nOK: fake").write_text("x"),
            "extra: a\\nOK: fake",
        ),
    ],
    ids=[
        "content",
        "size",
        "missing",
        "extra",
        "renamed",
        "empty-folder",
        "nested-folder",
        "fifo",
        "symlink",
        "control-chars",
    ],
)
def test_verify_names_each_problem(tmp_path, tamper, problem):
    out = make_bundle(tmp_path)
    tamper(out)
    result = verify_bundle(out)
    assert not result.ok
    assert problem in result.problems


@pytest.mark.parametrize("name", sorted(FILES))
def test_tampering_with_any_listed_file_is_caught(tmp_path, name):
    out = make_bundle(tmp_path)
    path = out / name
    path.write_bytes(path.read_bytes()[::-1] + b"!")
    assert verify_bundle(out).problems == [
        f"changed: {name} ({len(FILES[name]) + 1} bytes, manifest says {len(FILES[name])})"
    ]


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("/etc/passwd", "symbolic link"),
        ("/dev/zero", "symbolic link"),
        ("nowhere", "symbolic link"),
    ],
    ids=["passwd", "dev-zero", "dangling"],
)
def test_listed_symlink_is_never_followed(tmp_path, target, kind):
    """A manifest may list the hash of a link's target: verify must still refuse the link."""
    out = make_bundle(tmp_path)
    (out / "policy.yaml").unlink()
    (out / "policy.yaml").symlink_to(target)
    if os.path.isfile(target):
        with open(target, "rb") as fh:
            data = fh.read()
        rewrite_manifest(
            out,
            lambda m: m["files"].update(
                {"policy.yaml": {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}}
            ),
        )
    result = verify_bundle(out, key=None)
    assert f"not a regular file: policy.yaml ({kind})" in result.problems


def test_symlinked_folder_is_not_entered(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ratings.parquet").write_bytes(b"abc")
    out = make_bundle(tmp_path)
    (out / "data" / "ratings.parquet").unlink()
    (out / "data").rmdir()
    (out / "data").symlink_to(elsewhere)
    problems = verify_bundle(out).problems
    assert "not a regular file: data (symbolic link; not in the manifest)" in problems
    assert "missing: data/ratings.parquet" in problems


def test_device_listed_with_a_size_is_not_read(tmp_path):
    """A character device is refused from its mode alone: verify never reads it (no hang)."""
    out = make_bundle(tmp_path)
    (out / "notes.md").unlink()
    (out / "notes.md").symlink_to("/dev/zero")
    result = verify_bundle(out)
    assert result.problems == ["not a regular file: notes.md (symbolic link)"]


@pytest.mark.parametrize(
    "name", ["../outside", "/etc/passwd", "a/../../b", "", "./x", "a//b"], ids=repr
)
def test_unsafe_names_in_the_manifest_are_never_opened(tmp_path, name):
    (tmp_path / "outside").write_bytes(b"secret")
    out = make_bundle(tmp_path)
    entry = {"sha256": hashlib.sha256(b"secret").hexdigest(), "bytes": 6}
    rewrite_manifest(out, lambda m: m["files"].update({name: entry}))
    assert f"unsafe name in the manifest: {printable(repr(name))}" in verify_bundle(out).problems


@pytest.mark.parametrize("name", ["report.json", "policy.yaml", "DATASHEET.md"])
def test_required_files_must_be_listed(tmp_path, name):
    files = {k: v for k, v in FILES.items() if k != name}
    out = make_bundle(tmp_path, files=files)
    assert verify_bundle(out).problems == [f"required file not in the manifest: {name}"]


def test_data_is_required_unless_rejected(tmp_path):
    files = {k: v for k, v in FILES.items() if not k.startswith("data/")}
    out = make_bundle(tmp_path, files=files)
    assert verify_bundle(out).problems == [
        "required data not in the manifest: data/, aggregates/ or model/"
    ]
    rejected = {"report.json": b"{}", "policy.yaml": b"x"}
    (tmp_path / "r").mkdir()
    assert verify_bundle(make_bundle(tmp_path / "r", files=rejected, rejected=True)).ok


def test_signature_proves_origin(tmp_path):
    out = make_bundle(tmp_path, key=KEYS)
    assert verify_bundle(out, key=KEYS).origin == "verified"
    assert verify_bundle(out).origin == "not checked"
    wrong = verify_bundle(out, key=Keys.derive(b"another-key-0123456789"))
    assert wrong.problems == [
        "origin: the signature does not match (another key, or an altered manifest)"
    ]
    assert wrong.files_checked is False


def test_bad_signature_stops_before_any_file_is_read(tmp_path):
    out = make_bundle(tmp_path, key=KEYS)
    os.mkfifo(out / "trap")  # opening it for reading would block forever
    (out / "notes.md").write_text("tampered")
    result = verify_bundle(out, key=Keys.derive(b"another-key-0123456789"))
    assert result.files_checked is False
    assert len(result.problems) == 1


def test_rewritten_manifest_fails_origin_but_passes_integrity(tmp_path):
    out = make_bundle(tmp_path, key=KEYS)
    (out / "notes.md").write_text("forged")
    forged = {"sha256": hashlib.sha256(b"forged").hexdigest(), "bytes": 6}
    rewrite_manifest(out, lambda m: m["files"].update({"notes.md": forged}))
    assert verify_bundle(out).ok  # integrity alone cannot catch a rewritten manifest
    assert not verify_bundle(out, key=KEYS).ok


def test_unsigned_bundle_with_key_is_reported(tmp_path):
    out = make_bundle(tmp_path)
    assert verify_bundle(out, key=KEYS).problems == ["origin: the manifest is not signed"]


def test_v1_signature_is_not_accepted_as_origin(tmp_path):
    out = make_bundle(tmp_path, key=KEYS)
    rewrite_manifest(out, lambda m: m.update(schema="publisher.manifest/1"))
    assert verify_bundle(out).ok
    (problem,) = verify_bundle(out, key=KEYS).problems
    assert problem == (
        "origin: signed under publisher.manifest/1, whose key derivation a crafted customer id "
        "can forge; re-release the data with this version"
    )


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleVerificationError, match=r"no MANIFEST\.json; not a bundle"):
        verify_bundle(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(BundleVerificationError, match="not valid JSON"):
        verify_bundle(tmp_path)
    (tmp_path / MANIFEST).write_text('{"schema": "other", "files": {}}')
    with pytest.raises(BundleVerificationError, match="not a manifest of this tool"):
        verify_bundle(tmp_path)


def test_manifest_that_is_a_symlink_is_refused(tmp_path):
    out = make_bundle(tmp_path)
    (out / MANIFEST).rename(tmp_path / "real.json")
    (out / MANIFEST).symlink_to(tmp_path / "real.json")
    with pytest.raises(BundleVerificationError, match="is a symbolic link"):
        verify_bundle(out)


def test_deeply_nested_json_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BundleVerificationError, match="nested too deeply"):
        load_json(path)


def test_oversized_json_is_not_read(tmp_path):
    path = tmp_path / "big.json"
    path.write_text('"' + "x" * 2000 + '"')
    with pytest.raises(BundleVerificationError, match="larger than 1,000 bytes"):
        load_json(path, max_bytes=1000)


def test_printable_escapes_control_characters():
    assert printable("ok.txt") == "ok.txt"
    assert printable("a\nb\x1b[2Jc\td") == "a\\nb\\x1b[2Jc\\td"


def test_real_device_in_a_bundle_is_refused_unread(tmp_path):
    out = make_bundle(tmp_path)
    (out / "notes.md").unlink()
    try:
        os.mknod(out / "notes.md", 0o600 | __import__("stat").S_IFCHR, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node needs root")
    assert verify_bundle(out).problems == ["not a regular file: notes.md (character device)"]


def test_write_json_is_atomic_and_exact(tmp_path):
    from publisher.engine.bundle import write_json

    path = tmp_path / "report.json"
    path.write_text("old")
    write_json(path, {"b": 1, "a": [0.5]})
    assert path.read_text() == '{\n  "b": 1,\n  "a": [\n    0.5\n  ]\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary left
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_json(path, {"x": float("nan")})
    assert path.read_text().startswith('{\n  "b": 1')  # a failed write leaves the old file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_signature_is_the_documented_hmac_by_hand(tmp_path):
    """README: signature = HMAC-SHA256(signing key, canonical JSON of MANIFEST.json without
    it), canonical = sorted keys, no spaces. A reviewer can recompute it with any tool."""
    import hmac

    from publisher.engine.keys import derive_key

    out = make_bundle(tmp_path, key=KEYS, created="2026-01-01T00:00:00Z")
    manifest = json.loads((out / MANIFEST).read_text())
    signature = manifest.pop("signature")
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    expected = hmac.new(derive_key(KEY, "manifest"), canonical, hashlib.sha256).hexdigest()
    assert signature == {"algorithm": "HMAC-SHA256", "value": expected}


def test_review_copies_and_rejected_reports_need_no_data_or_datasheet(tmp_path):
    reports = {"report.json": b"{}", "policy.yaml": b"name: p\n"}
    for kind in ("review", "rejected"):
        (tmp_path / kind).mkdir()
        binding = {"bundle_manifest_sha256": "0" * 64} if kind == "review" else {}
        out = make_bundle(tmp_path / kind, files=reports, **{kind: True}, **binding)
        assert verify_bundle(out).ok, kind
    (tmp_path / "plain").mkdir()
    plain = make_bundle(tmp_path / "plain", files=reports)
    assert verify_bundle(plain).problems == [
        "required file not in the manifest: DATASHEET.md",
        "required data not in the manifest: data/, aggregates/ or model/",
    ]


def test_empty_files_are_listed_and_verify(tmp_path):
    out = make_bundle(tmp_path, files={**FILES, "aggregates/empty.csv": b""})
    assert verify_bundle(out).ok


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"sha256": "0" * 64, "bytes": -1}, "negative size"),
        ({"sha256": "0" * 64, "bytes": "5"}, "size as text"),
        ({"sha256": "xyz", "bytes": 5}, "not a SHA-256"),
        ({"sha256": 5, "bytes": 5}, "digest as a number"),
        ({"bytes": 5}, "no digest"),
        ("notes", "not a mapping"),
    ],
)
def test_unreadable_manifest_entries_are_named(tmp_path, entry, why):
    out = make_bundle(tmp_path)
    rewrite_manifest(out, lambda m: m["files"].__setitem__("notes.md", entry))
    assert verify_bundle(out).problems == ["changed: notes.md (manifest entry unreadable)"], why


def test_a_name_with_a_nul_byte_is_unsafe_not_a_crash(tmp_path):
    out = make_bundle(tmp_path)
    rewrite_manifest(out, lambda m: m["files"].__setitem__("a\0b", m["files"]["notes.md"]))
    assert "unsafe name in the manifest: 'a\\x00b'" in verify_bundle(out).problems


def test_a_manifest_that_is_not_a_mapping_is_refused(tmp_path):
    out = make_bundle(tmp_path)
    (out / MANIFEST).write_text("[1, 2]")
    with pytest.raises(BundleVerificationError) as caught:
        verify_bundle(out)
    assert str(caught.value) == f"{out / MANIFEST}: not a manifest of this tool (schema None)"


def test_folder_depth_limit_is_exact(tmp_path):
    from publisher.engine.verify import MAX_DEPTH

    def nested(levels, where):
        files = {"/".join(["d"] * levels + ["f.txt"]): b"x", **FILES}
        where.mkdir()
        return make_bundle(where, files=files)

    assert verify_bundle(nested(MAX_DEPTH, tmp_path / "ok")).ok
    with pytest.raises(BundleVerificationError) as caught:
        verify_bundle(nested(MAX_DEPTH + 1, tmp_path / "deep"))
    assert str(caught.value).endswith(f": folders nested deeper than {MAX_DEPTH}")


def test_entry_count_limit_is_exact(tmp_path, monkeypatch):
    from publisher.engine import verify as verify_module

    out = make_bundle(tmp_path)  # 5 files, 1 folder, the manifest: 7 entries
    monkeypatch.setattr(verify_module, "MAX_ENTRIES", 7)
    assert verify_bundle(out).ok
    monkeypatch.setattr(verify_module, "MAX_ENTRIES", 6)
    with pytest.raises(BundleVerificationError) as caught:
        verify_bundle(out)
    assert str(caught.value) == "more than 6 entries; not a bundle"


def test_a_linked_folder_is_reported_and_its_files_are_not_read(tmp_path):
    out = make_bundle(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (out / "data").rename(elsewhere)
    (out / "data").symlink_to(elsewhere)
    assert verify_bundle(out).problems == [
        "missing: data/ratings.parquet",  # not followed into the linked folder
        "not a regular file: data (symbolic link; not in the manifest)",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x" * 65, "larger than 64 bytes; not reading it"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
        (
            b"{nope",
            "not valid JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1))",
        ),
    ],
)
def test_load_json_names_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "report.json"
    path.write_bytes(content)
    with pytest.raises(BundleVerificationError) as caught:
        load_json(path, max_bytes=64 if len(content) < 100 else 1_000_000)
    assert str(caught.value) == f"{path}: {message}"


def test_load_json_reads_exactly_up_to_its_limit(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'"' + b"x" * 62 + b'"')  # 64 bytes
    assert load_json(path, max_bytes=64) == "x" * 62
    link = tmp_path / "link.json"
    link.symlink_to(path)
    with pytest.raises(BundleVerificationError) as caught:
        load_json(link)
    assert str(caught.value) == f"{link}: is a symbolic link"
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(BundleVerificationError) as caught:
        load_json(fifo)
    assert str(caught.value) == f"{fifo}: not a regular file"


def test_verify_result_counts_the_listed_files_and_keeps_the_manifest(tmp_path):
    result = verify_bundle(make_bundle(tmp_path))
    assert result.files == len(FILES)
    assert result.manifest["tool"] == {"name": "ratings-publisher"}
    assert result.files_checked is True


def test_a_file_is_not_a_bundle_folder(tmp_path):
    path = tmp_path / "bundle.zip"
    path.write_bytes(b"PK")
    with pytest.raises(BundleVerificationError) as caught:
        verify_bundle(path)
    assert str(caught.value) == f"{path}: not a folder"


def test_a_manifest_of_another_schema_is_named(tmp_path):
    out = make_bundle(tmp_path)
    rewrite_manifest(out, lambda m: m.update(schema="other.manifest/9"))
    with pytest.raises(BundleVerificationError) as caught:
        verify_bundle(out)
    assert str(caught.value) == (
        f"{out / MANIFEST}: not a manifest of this tool (schema other.manifest/9)"
    )


def test_a_file_swapped_between_the_walk_and_the_read_is_named(tmp_path, monkeypatch):
    from publisher.engine import verify as verify_module

    out = make_bundle(tmp_path)
    # _hash_inside answers None when the file it opens is not the one the walk saw.
    monkeypatch.setattr(verify_module, "_hash_inside", lambda fd, name, size: None)
    assert "changed: notes.md (not the regular file of 5 bytes listed)" in (
        verify_bundle(out).problems
    )


def test_a_bundle_of_aggregates_only_has_its_required_data(tmp_path):
    files = {k: v for k, v in FILES.items() if not k.startswith("data/")}
    out = make_bundle(tmp_path, files={**files, "aggregates/item_count.csv": b"item,count\n"})
    assert verify_bundle(out).ok


def test_special_files_count_towards_the_entry_limit(tmp_path, monkeypatch):
    from publisher.engine import verify as verify_module

    out = make_bundle(tmp_path)  # 7 entries
    os.mkfifo(out / "pipe")
    monkeypatch.setattr(verify_module, "MAX_ENTRIES", 8)
    assert verify_bundle(out).problems == ["not a regular file: pipe (FIFO; not in the manifest)"]
    monkeypatch.setattr(verify_module, "MAX_ENTRIES", 7)
    with pytest.raises(BundleVerificationError):
        verify_bundle(out)


def test_hashing_refuses_a_file_of_another_size_than_listed(tmp_path):
    from publisher.engine.verify import _hash_inside

    (tmp_path / "f").write_bytes(b"abcd")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert _hash_inside(fd, "f", 4) == hashlib.sha256(b"abcd").hexdigest()
        assert _hash_inside(fd, "f", 3) is None  # grew: never hashes a prefix as the file
        assert _hash_inside(fd, "f", 5) is None  # shrank
    finally:
        os.close(fd)


def test_load_json_counts_bytes_not_characters(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('"' + "\u00e9" * 32 + '"', encoding="utf-8")  # 34 characters, 66 bytes
    with pytest.raises(BundleVerificationError) as caught:
        load_json(path, max_bytes=64)
    assert str(caught.value) == f"{path}: larger than 64 bytes; not reading it"


def test_load_json_names_a_path_it_cannot_open(tmp_path):
    (tmp_path / "file").write_bytes(b"{}")
    path = tmp_path / "file" / "report.json"
    with pytest.raises(BundleVerificationError) as caught:
        load_json(path)
    assert str(caught.value) == f"{path}: Not a directory"


def test_printable_keeps_printable_characters_as_they_are():
    assert printable("a\\b 'c'") == "a\\b 'c'"
    assert printable("tab\there") == "tab\\there"
    # a backslash beside an escaped character stays one backslash (its repr doubles it)
    assert printable("a\\b\tc'") == "a\\b\\tc'"


def test_duplicate_members_cannot_forge_a_signed_manifest(tmp_path):
    # Issue 24.2: a first-wins reader sees the prepended members, this tool would have seen
    # the signed last ones; both parses of one file must be the same document, or none.
    out = make_bundle(tmp_path, key=KEYS)
    signed = (out / MANIFEST).read_text()
    forged_files = json.dumps({"data/ratings.parquet": {"sha256": "0" * 64, "bytes": 3}})
    forged = '{"schema": "publisher.manifest/2", "files": ' + forged_files + "," + signed[1:]
    (out / MANIFEST).write_text(forged)
    with pytest.raises(BundleVerificationError, match="member 'schema' given twice"):
        verify_bundle(out, key=KEYS)


@pytest.mark.parametrize(
    "text",
    ['{"a": {"b": 1, "b": 2}}', '[{"x": 1, "x": 1}]', '{"v": NaN}', '{"v": -Infinity}'],
    ids=["nested", "in-a-list", "nan", "infinity"],
)
def test_load_json_refuses_repeated_members_and_non_standard_numbers(tmp_path, text):
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(BundleVerificationError, match=r"given twice|not valid JSON"):
        load_json(path)
