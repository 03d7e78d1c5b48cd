"""The organizer's key: where it is read from, and the subkeys derived from it.

One secret serves three purposes: keyed pseudonyms, the manifest signature and keyed
seeds (a reproducible release whose noise only the key holder can replay). Using
the key directly for both would let one purpose's output stand in for the other's
key: with ``pseudonym = HMAC(key, id)`` and ``signing key = HMAC(key, label)`` a
customer whose id is ``label`` has the signing key published as a pseudonym. So the
key is never used directly. Each purpose gets its own subkey from HKDF-SHA256
(RFC 5869) with a distinct ``info`` label::

    pseudonym key = HKDF-SHA256(ikm=key, salt=None, info=b"ratings-publisher/v2 pseudonyms")
    release root  = HKDF-SHA256(ikm=key, salt=None, info=b"ratings-publisher/v4 release pseudonyms")
    per release   = HKDF-SHA256(ikm=release root, salt=release id, info=the same label)
    signing key   = HKDF-SHA256(ikm=key, salt=None, info=b"ratings-publisher/v2 manifest signature")
    seed key      = HKDF-SHA256(ikm=key, salt=None, info=b"ratings-publisher/v2 seed")
    keyed seed    = HMAC-SHA256(seed key, decimal seed), 256 bits into numpy's SeedSequence

The subkeys are derived once, where the key is read (:class:`Keys`); no function below
the command layer sees the key itself.

HKDF's outputs for different labels are independent pseudorandom keys, and no
pseudonym input (an id) reaches the signing key's derivation, so no id can yield it.

Why keyed seeds: the privacy noise of a release (randomized response, jitter,
sampling, the DP aggregates' noise) protects only if it cannot be replayed. A plain
``--seed`` can be found by search (measured: ``--seed 1234`` in 4.5 s from a bundle,
recovering every exact count). With the key mixed in, a seed is worth nothing
without the key, which never leaves the organizer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from policies.files import PolicyFile, check_not_key
from publisher.core.errors import PublisherError
from publisher.core.files import SmallFileError, read_small_file

__all__ = [
    "KEY_ENV",
    "MAX_KEY_BYTES",
    "MIN_KEY_BYTES",
    "PURPOSES",
    "Keys",
    "derive_key",
    "keyed_seed",
    "load_key",
    "organizer_keys",
    "pseudonym_key",
    "release_id",
]

#: Environment variable that may hold the organizer's key.
KEY_ENV = "PUBLISHER_KEY"
MIN_KEY_BYTES = 16
#: A key file is read up to this many bytes; a longer one is refused (``/dev/zero``
#: would otherwise be read until memory runs out).
MAX_KEY_BYTES = 4096

#: The HKDF ``info`` label of each purpose. Changing one changes every pseudonym or
#: signature made with it, so a new label gets a new version prefix.
PURPOSES = {
    "pseudonyms": b"ratings-publisher/v2 pseudonyms",
    "release pseudonyms": b"ratings-publisher/v4 release pseudonyms",
    "manifest": b"ratings-publisher/v2 manifest signature",
    "seed": b"ratings-publisher/v2 seed",
    "ledger": b"ratings-publisher/v3 ledger",
}


@dataclass(frozen=True)
class Keys:
    """The organizer key's subkeys: the one value that travels below the command layer.

    Derived once at the boundary (:meth:`derive`: the ``release`` and ``audit`` commands,
    ``publisher.release``, ``verify``); every function below takes what it needs from
    here, so none of them sees the raw secret. Its ``repr`` shows no key material.

    Attributes
    ----------
    pseudonyms : bytes
        The stable (``linkable``) pseudonym key.
    release_pseudonyms : bytes
        The input keying material of per-release pseudonym keys (salted by release id).
    manifest : bytes
        Signs MANIFEST.json.
    seed : bytes
        Mixes a ``--seed`` with the key, and derives a seeded release's id.
    ledger : bytes
        Tags the ledger's entries and names the key in it.
    """

    pseudonyms: bytes = field(repr=False)
    release_pseudonyms: bytes = field(repr=False)
    manifest: bytes = field(repr=False)
    seed: bytes = field(repr=False)
    ledger: bytes = field(repr=False)

    @classmethod
    def derive(cls, key: bytes) -> Keys:
        """Every subkey of the organizer's ``key`` (HKDF-SHA256, one label each)."""
        return cls(
            pseudonyms=derive_key(key, "pseudonyms"),
            # HKDF's salt is applied to its input key: per-release keys are derived from
            # this subkey (not the raw key) so that they too need no raw secret.
            release_pseudonyms=derive_key(key, "release pseudonyms"),
            manifest=derive_key(key, "manifest"),
            seed=derive_key(key, "seed"),
            ledger=derive_key(key, "ledger"),
        )

    def __repr__(self) -> str:
        return "Keys(<derived from the organizer's key>)"


def derive_key(key: bytes, purpose: str, salt: bytes | None = None) -> bytes:
    """The 32-byte subkey of ``key`` for one purpose (HKDF-SHA256, RFC 5869).

    Parameters
    ----------
    key : bytes
        The organizer's key.
    purpose : str
        What the subkey is for (a key of :data:`PURPOSES`); each purpose has its own HKDF
        ``info`` label.
    salt : bytes, optional
        HKDF's salt: the release id for per-release pseudonyms.

    Returns
    -------
    bytes

    Examples
    --------
    >>> a = derive_key(b"0123456789abcdef", "pseudonyms")
    >>> b = derive_key(b"0123456789abcdef", "manifest")
    >>> len(a), a == b
    (32, False)
    """
    if purpose not in PURPOSES:
        raise ValueError(f"unknown key purpose {purpose!r}; use one of {', '.join(PURPOSES)}")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=PURPOSES[purpose])
    return hkdf.derive(key)


def release_id(keys: Keys | None, seed: int | None) -> str:
    """The id of one release: 128 random bits, or, for a seeded run, derived from the seed.

    A seeded release must give the same bundle again, pseudonyms included, so its id is
    a function of the (keyed) seed; without a key the seed is public and so is the id,
    which only matters for policies without noise (:func:`check_seed`), whose pseudonyms
    come from a throwaway key anyway.

    Examples
    --------
    >>> k = Keys.derive(b"0123456789abcdef")
    >>> release_id(k, 1) == release_id(k, 1), release_id(k, 1) == release_id(k, 2)
    (True, False)
    >>> len(release_id(None, None))
    32
    """
    if seed is None:
        return secrets.token_hex(16)
    label = str(int(seed)).encode("ascii")
    if keys is not None:
        return hmac.new(keys.seed, b"release id " + label, hashlib.sha256).hexdigest()[:32]
    return hashlib.sha256(b"release id " + label).hexdigest()[:32]


def pseudonym_key(keys: Keys | None, release: str, *, linkable: bool) -> bytes:
    """The subkey the pseudonyms of one release are made with.

    Per release (the default): HKDF of the key's release-pseudonym subkey with the
    release id as salt, so two releases never share a pseudonym. ``linkable``: the key's
    stable pseudonym subkey, the same in every release. Without a key: a fresh random
    key, discarded.
    """
    if keys is None:
        return secrets.token_bytes(32)
    if linkable:
        return keys.pseudonyms
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=bytes.fromhex(release),
        info=PURPOSES["release pseudonyms"],
    )
    return hkdf.derive(keys.release_pseudonyms)


def keyed_seed(keys: Keys, seed: int) -> int:
    """The 256-bit entropy a seeded release uses: ``seed`` mixed with the organizer's key.

    Examples
    --------
    >>> k = Keys.derive(b"0123456789abcdef")
    >>> keyed_seed(k, 1) == keyed_seed(k, 1), keyed_seed(k, 1) == keyed_seed(k, 2)
    (True, False)
    >>> keyed_seed(k, 1) == keyed_seed(Keys.derive(b"another key 1234"), 1)
    False
    """
    mac = hmac.new(keys.seed, str(int(seed)).encode("ascii"), hashlib.sha256)
    return int.from_bytes(mac.digest(), "big")


def organizer_keys(
    key: bytes | None, files: Sequence[PolicyFile] = (), key_path: Path | None = None
) -> Keys | None:
    """At the boundary: refuse a policy file that holds ``key``, then derive its subkeys.

    Parameters
    ----------
    key : bytes or None
        The organizer's key as read (:func:`load_key`), or None for a throwaway key.
    files : sequence of PolicyFile
        The policy's files (``Policy.files()``): a catalogue is published line by line.
    key_path : Path, optional
        Where the key was read from (a catalogue naming that very file is refused).

    Returns
    -------
    Keys or None
    """
    check_not_key(list(files), key, key_path)
    return None if key is None else Keys.derive(key)


def _read_key_file(path: Path) -> bytes:
    """At most ``MAX_KEY_BYTES + 1`` bytes of a key file (a pipe such as ``<(pass key)`` works)."""
    try:
        return read_small_file(path, MAX_KEY_BYTES)
    except FileNotFoundError as exc:
        raise PublisherError(f"{path}: cannot read key file ({exc.strerror})") from None
    except SmallFileError as exc:
        if exc.kind == "folder":
            raise PublisherError(f"{path}: is a folder, not a key file") from None
        if exc.kind == "size":
            raise PublisherError(
                f"{path}: a key file holds at most {MAX_KEY_BYTES} bytes"
            ) from None
        raise PublisherError(f"{path}: cannot read key file ({exc.detail})") from None


def load_key(
    key_file: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[bytes | None, str]:
    """Find the organizer's key.

    Parameters
    ----------
    key_file : path, optional
        A file whose bytes (surrounding whitespace stripped) are the key; read up to
        :data:`MAX_KEY_BYTES`.
    environ : mapping, optional
        Where to look for ``PUBLISHER_KEY`` (defaults to ``os.environ``).

    Returns
    -------
    (bytes or None, str)
        The key and where it came from (``key-file``, ``environment``), or
        ``(None, "ephemeral")`` when neither is given.

    Raises
    ------
    PublisherError
        For an unreadable, oversized or too short key (under 16 bytes), and for a
        ``PUBLISHER_KEY`` that is set but empty: an organizer who exported a key
        meant to use one, so falling back to a throwaway key would be a surprise.
    """
    environ = os.environ if environ is None else environ
    if key_file is not None:
        key = _read_key_file(Path(key_file)).strip()
        source, label = "key-file", str(key_file)
    elif KEY_ENV in environ:
        key = environ[KEY_ENV].strip().encode()
        source, label = "environment", KEY_ENV
        if not key:
            raise PublisherError(
                f"{KEY_ENV} is set but empty; set it to the key (at least {MIN_KEY_BYTES} "
                f"bytes) or unset it to use a throwaway key"
            )
    else:
        return None, "ephemeral"
    if len(key) < MIN_KEY_BYTES:
        raise PublisherError(
            f"{label}: the key must be at least {MIN_KEY_BYTES} bytes, got {len(key)}"
        )
    if len(key) > MAX_KEY_BYTES:
        raise PublisherError(f"{label}: the key must be at most {MAX_KEY_BYTES} bytes")
    return key, source
