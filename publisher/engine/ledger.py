"""The privacy ledger of linkable releases: what every release of the same customers spent.

By default each release gets its own pseudonyms, so releases do not link. A policy that
keeps pseudonyms stable across releases (``pseudonymize_users: {linkable: true,
total_epsilon: E}``) lets anyone join its releases customer by customer: the noise of
each composes, so the per-rating epsilon of randomized response adds up over them, and
so does the per-customer epsilon of DP aggregates (which composes over releases of the
same data whatever the pseudonyms). The ledger is the organizer's record of those
releases: a JSON file signed with an HMAC subkey of the organizer's key, so an edited or
foreign ledger is refused. A linkable release reads it under a lock, refuses to run when
its own epsilons would take either running total above ``total_epsilon``, and records
itself BEFORE its bundle is swapped into place: a crash between the two over-counts
(conservative), never under-counts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from publisher.core.errors import PolicyError, PublisherError
from publisher.core.parsing import canonical_json, strict_json
from publisher.engine.bundle import write_json
from publisher.engine.keys import Keys
from publisher.engine.staging import output_lock

__all__ = ["LEDGER_SCHEMA", "Ledger", "LedgerEntry", "entry_for", "open_ledger"]

LEDGER_SCHEMA = "publisher.ledger/1"
_MAX_LEDGER_BYTES = 16 << 20


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded release: its id, policy, and the epsilons it spent (None: none)."""

    release: str
    created: str
    policy: str
    policy_sha256: str
    per_rating_epsilon: float | None
    aggregate_epsilon: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dataclasses.asdict(self)


def _key_id(key: Keys) -> str:
    return hmac.new(key.ledger, b"key id", hashlib.sha256).hexdigest()[:16]


def _tag(key: Keys, body: dict[str, Any]) -> str:
    return hmac.new(key.ledger, canonical_json(body), hashlib.sha256).hexdigest()


def _total(values: list[float | None]) -> float:
    """Exact sum (fractions), rounded up to the nearest float: a conservative total."""
    exact = sum((Fraction(v) for v in values if v is not None), Fraction(0))
    total = float(exact)
    return total if Fraction(total) >= exact else math.nextafter(total, math.inf)


@dataclass
class Ledger:
    """The releases recorded in one ledger file, and its running totals."""

    path: Path
    key: Keys
    entries: list[LedgerEntry]

    def totals(self, extra: LedgerEntry | None = None) -> dict[str, float]:
        """The cumulative per-rating and aggregate epsilons (with ``extra`` counted too)."""
        entries = [*self.entries, *([extra] if extra is not None else [])]
        return {
            "per_rating_epsilon": _total([e.per_rating_epsilon for e in entries]),
            "aggregate_epsilon": _total([e.aggregate_epsilon for e in entries]),
        }

    def check(self, entry: LedgerEntry, total_epsilon: float) -> None:
        """Refuse ``entry`` if it would take a running total above ``total_epsilon``.

        Raises
        ------
        PolicyError
            With the running total, this release's share and the declared total.
        """
        before, after = self.totals(), self.totals(entry)
        for name, label in (
            ("per_rating_epsilon", "per rating (randomized response)"),
            ("aggregate_epsilon", "per customer (DP aggregates)"),
        ):
            if after[name] > total_epsilon:
                raise PolicyError(
                    f"{self.path}: this linkable release would spend epsilon {label} "
                    f"{after[name] - before[name]:g} on top of the {before[name]:g} its "
                    f"{len(self.entries)} earlier release(s) spent: {after[name]:g} in all, "
                    f"more than the declared total_epsilon {total_epsilon:g}; the noise of "
                    "releases whose pseudonyms link composes"
                )

    def record(self, entry: LedgerEntry) -> None:
        """Append ``entry`` and rewrite the file atomically, signed."""
        self.entries.append(entry)
        self._write()

    def forget(self, entry: LedgerEntry) -> None:
        """Take ``entry`` back out: its release failed before anything was published."""
        if entry in self.entries:
            self.entries.remove(entry)
            self._write()

    def _write(self) -> None:
        body = {
            "schema": LEDGER_SCHEMA,
            "key_id": _key_id(self.key),
            "releases": [e.to_dict() for e in self.entries],
        }
        write_json(self.path, {**body, "signature": _tag(self.key, body)})


def _read(path: Path, key: Keys) -> list[LedgerEntry]:
    if not path.exists():
        return []
    if path.is_symlink() or not path.is_file():
        raise PublisherError(f"{path}: the ledger must be a regular file")
    raw = path.read_bytes()
    if len(raw) > _MAX_LEDGER_BYTES:
        raise PublisherError(f"{path}: larger than {_MAX_LEDGER_BYTES:,} bytes; not a ledger")
    try:
        data = strict_json(raw)
    except (ValueError, RecursionError) as exc:
        raise PublisherError(f"{path}: not a ledger of this tool ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != LEDGER_SCHEMA:
        raise PublisherError(f"{path}: not a ledger of this tool")
    if data.get("key_id") != _key_id(key):
        raise PublisherError(
            f"{path}: the ledger of another organizer key; pseudonyms of that key do not "
            "link with these, so keep a ledger per key"
        )
    body = {k: v for k, v in data.items() if k != "signature"}
    signature = data.get("signature")
    if not isinstance(signature, str) or not hmac.compare_digest(_tag(key, body), signature):
        raise PublisherError(
            f"{path}: the ledger's signature does not match: it was edited (a deleted entry "
            "would hide spent budget), so it is not trusted"
        )
    try:
        return [LedgerEntry(**entry) for entry in data["releases"]]
    except (TypeError, KeyError):
        raise PublisherError(f"{path}: a ledger entry is malformed") from None


@contextlib.contextmanager
def open_ledger(path: str | Path, key: Keys | None) -> Iterator[Ledger]:
    """The ledger at ``path`` (empty if absent), held under its lock for the block.

    Raises
    ------
    PublisherError
        Without the organizer's key (linkable pseudonyms need it), for a file that is not
        a ledger of this key, or one whose signature does not match.
    """
    path = Path(path)
    if key is None:
        raise PolicyError(
            "pseudonymize_users.linkable: stable pseudonyms need the organizer's key "
            "(--key-file or PUBLISHER_KEY): without it every release gets fresh ones"
        )
    with output_lock(path):
        yield Ledger(path, key, _read(path, key))


def entry_for(
    meta: dict[str, Any], per_rating: float | None, aggregate: float | None
) -> LedgerEntry:
    """The ledger entry of a release, from its manifest fields and its epsilons."""
    return LedgerEntry(
        release=meta["release"]["id"],
        created=meta.get("created") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        policy=meta["policy"]["name"],
        policy_sha256=meta["policy"]["sha256"],
        per_rating_epsilon=per_rating,
        aggregate_epsilon=aggregate,
    )
