import hashlib
import hmac
import json

import pandas as pd
import pytest

from publisher.core.errors import PublisherError
from publisher.engine import release
from publisher.engine.bundle import MANIFEST, _canonical
from publisher.engine.keys import KEY_ENV, MAX_KEY_BYTES, PURPOSES, Keys, derive_key, load_key
from publisher.engine.verify import verify_bundle

KEY = b"organizer-secret-key-0123456789"
KEYS = Keys.derive(KEY)
# The labels an attacker would try as customer ids: the old signing label and the new ones.
LABELS = ["publisher manifest signature v1", *(label.decode() for label in PURPOSES.values())]


def test_subkeys_differ_from_each_other_and_from_the_key():
    pseudonyms, manifest = derive_key(KEY, "pseudonyms"), derive_key(KEY, "manifest")
    assert len({pseudonyms, manifest, KEY}) == 3
    assert derive_key(KEY, "manifest") == manifest  # deterministic
    with pytest.raises(ValueError, match="unknown key purpose") as caught:
        derive_key(KEY, "other")
    assert str(caught.value) == (
        "unknown key purpose 'other'; use one of pseudonyms, release pseudonyms, manifest, seed, "
        "ledger"
    )


def test_hkdf_matches_rfc5869_by_hand():
    """HKDF-SHA256 with no salt: PRK = HMAC(0^32, key); OKM = HMAC(PRK, info || 0x01)."""
    prk = hmac.new(b"\0" * 32, KEY, hashlib.sha256).digest()
    okm = hmac.new(prk, PURPOSES["manifest"] + b"\x01", hashlib.sha256).digest()
    assert derive_key(KEY, "manifest") == okm


def test_no_customer_id_yields_the_signing_key():
    pseudonym_key = derive_key(KEY, "pseudonyms")
    signing = derive_key(KEY, "manifest")
    for label in LABELS:
        assert hmac.new(pseudonym_key, label.encode(), hashlib.sha256).digest() != signing


def forge(bundle, signing_key):
    """Turn a rejected verdict into a pass and re-sign the manifest with a guessed key."""
    report = json.loads((bundle / "report.json").read_text())
    report["verdict"] = "pass"
    data = (json.dumps(report) + "\n").encode()
    (bundle / "report.json").write_bytes(data)
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"]["report.json"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    tag = hmac.new(signing_key, _canonical(manifest), hashlib.sha256).hexdigest()
    manifest["signature"] = {"algorithm": "HMAC-SHA256", "value": tag}
    (bundle / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.slow
def test_published_pseudonyms_cannot_forge_a_signed_bundle(tmp_path):
    """The forgery that worked before HKDF subkeys: full-length pseudonyms of customers whose
    ids are the signing labels, used as the signing key."""
    rows = [
        (user, item, 1 + (k + item) % 5)
        for k, user in enumerate([*LABELS, *(f"c{n}" for n in range(40))])
        for item in range(1, 9)
    ]
    source = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=["user", "item", "rating"]).to_csv(source, index=False)
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "name: full\nsteps: [{pseudonymize_users: {digest_chars: 64}}]\naudits: {targets: 10}\n"
        "gate: none\n"
    )
    out = tmp_path / "bundle"
    release(source, policy, out, key=KEYS, seed=1)
    assert verify_bundle(out, key=KEYS).origin == "verified"
    published = pd.read_parquet(out / "data" / "ratings.parquet")["user"].astype(str).unique()
    assert len(published) == len(LABELS) + 40
    for k, pseudonym in enumerate(published):
        copy = tmp_path / f"forged-{k}"
        copy.mkdir()
        for path in out.rglob("*"):
            target = copy / path.relative_to(out)
            if path.is_dir():
                target.mkdir(exist_ok=True)
            else:
                target.write_bytes(path.read_bytes())
        forge(copy, bytes.fromhex(pseudonym))
        assert verify_bundle(copy).ok  # integrity alone holds: the manifest was rewritten
        assert verify_bundle(copy, key=KEYS).problems == [
            "origin: the signature does not match (another key, or an altered manifest)"
        ]


def test_key_file_is_read_with_a_cap(tmp_path):
    with pytest.raises(PublisherError, match=f"holds at most {MAX_KEY_BYTES} bytes"):
        load_key("/dev/zero")
    big = tmp_path / "big.key"
    big.write_bytes(b"k" * (MAX_KEY_BYTES + 1))
    with pytest.raises(PublisherError, match=f"holds at most {MAX_KEY_BYTES} bytes"):
        load_key(big)
    with pytest.raises(PublisherError, match="is a folder, not a key file"):
        load_key(tmp_path)


def test_key_sources(tmp_path):
    path = tmp_path / "k"
    path.write_bytes(b"  file-key-0123456789\n")
    assert load_key(path, environ={}) == (b"file-key-0123456789", "key-file")
    assert load_key(None, environ={KEY_ENV: "env-key-0123456789"}) == (
        b"env-key-0123456789",
        "environment",
    )
    assert load_key(None, environ={}) == (None, "ephemeral")
    with pytest.raises(PublisherError, match="at least 16 bytes, got 5"):
        load_key(None, environ={KEY_ENV: "short"})


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_empty_environment_key_is_an_error(value):
    with pytest.raises(PublisherError, match=f"^{KEY_ENV} is set but empty"):
        load_key(None, environ={KEY_ENV: value})


def test_key_file_size_limit_is_exact_and_errors_name_the_file(tmp_path):
    exact = tmp_path / "exact.key"
    exact.write_bytes(b"k" * MAX_KEY_BYTES)
    assert load_key(exact, environ={}) == (b"k" * MAX_KEY_BYTES, "key-file")
    missing = tmp_path / "nowhere" / "k"
    with pytest.raises(PublisherError) as caught:
        load_key(missing, environ={})
    assert str(caught.value) == f"{missing}: cannot read key file (No such file or directory)"


def test_keyed_seed_is_hmac_of_the_seed_under_the_seed_subkey():
    import hashlib
    import hmac

    from publisher.engine.keys import derive_key, keyed_seed

    key = b"organizer-secret-key-0123456789"
    mac = hmac.new(derive_key(key, "seed"), b"1234", hashlib.sha256).digest()
    assert keyed_seed(Keys.derive(key), 1234) == int.from_bytes(mac, "big")
    assert derive_key(key, "seed") not in (
        derive_key(key, "pseudonyms"),
        derive_key(key, "manifest"),
    )


def test_key_length_limits_are_inclusive(tmp_path):
    from publisher.engine.keys import MAX_KEY_BYTES, MIN_KEY_BYTES, load_key

    exact = tmp_path / "k16"
    exact.write_bytes(b"k" * MIN_KEY_BYTES)
    assert load_key(exact)[0] == b"k" * MIN_KEY_BYTES
    longest = tmp_path / "kmax"
    longest.write_bytes(b"k" * MAX_KEY_BYTES)
    assert load_key(longest)[0] == b"k" * MAX_KEY_BYTES
    too_long = tmp_path / "klong"
    too_long.write_bytes(b"k" * (MAX_KEY_BYTES + 1))
    with pytest.raises(PublisherError) as caught:
        load_key(too_long)
    assert str(caught.value) == f"{too_long}: a key file holds at most {MAX_KEY_BYTES} bytes"
    assert load_key(None, environ={"PUBLISHER_KEY": "k" * MIN_KEY_BYTES})[1] == "environment"
    with pytest.raises(PublisherError) as caught:
        load_key(None, environ={"PUBLISHER_KEY": "k" * (MAX_KEY_BYTES + 1)})
    assert str(caught.value) == f"PUBLISHER_KEY: the key must be at most {MAX_KEY_BYTES} bytes"


def test_keys_are_the_subkeys_and_show_none_of_them():
    from publisher.engine.keys import Keys, pseudonym_key

    keys = Keys.derive(KEY)
    assert keys.manifest == derive_key(KEY, "manifest")
    assert keys.seed == derive_key(KEY, "seed")
    assert keys.ledger == derive_key(KEY, "ledger")
    assert pseudonym_key(keys, "00" * 16, linkable=True) == derive_key(KEY, "pseudonyms")
    one, two = (pseudonym_key(keys, r * 16, linkable=False) for r in ("01", "02"))
    assert len({one, two, keys.pseudonyms, keys.release_pseudonyms}) == 4
    assert KEY not in (one, two, *vars(keys).values())
    assert KEY.decode() not in repr(keys)
    assert keys.manifest.hex() not in repr(keys)


def test_no_engine_function_takes_the_raw_key():
    """Issue 26: the raw key travelled nine calls deep; now it stops at the boundary."""
    import inspect
    import typing

    import publisher.engine as engine
    from publisher.engine import bundle, evaluate, ledger, release, report_files, verify
    from publisher.engine.keys import Keys

    modules = (engine, bundle, evaluate, ledger, release, report_files, verify)
    functions = {
        f"{module.__name__}.{name}": function
        for module in modules
        for name, function in vars(module).items()
        if inspect.isfunction(function) and function.__module__ == module.__name__
    }
    checked = 0
    for name, function in functions.items():
        hints = typing.get_type_hints(function)
        if "key" in hints:
            assert hints["key"] in (Keys, Keys | None), name
            checked += 1
    assert checked >= 8
