"""The public domain of the differentially private tables, declared by the policy.

Differential privacy covers the values of a table, not its shape. If the rows of a
noisy table came from the data (the items present, the span of dates), one customer
who is the only rater of some item, or who rated on a day nobody else did, would add
a row whatever epsilon is. So the policy declares every table's rows:

* ``items``: an id range (``range: [1, 17770]``) or a catalogue file
  (``catalogue: movies.csv`` with an optional ``column``), e.g. a public list of titles;
* ``dates``: a ``from`` / ``to`` range of days; periods are cut from it;
* ``scale``: the rating values (``MIN:MAX:STEP``); by default the input's declared
  scale (one inferred from the data is refused: it would be data-dependent).

The tables then have exactly those rows, whatever the data holds. A rating outside
the domain (an item not in it, a date outside the range, a value off the scale) is not
counted: a public rule applied to each rating alone, so adding a customer still only
adds that customer's in-domain ratings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policies.files import PolicyFile, read_policy_file
from publisher.core.assemble import _as_ids, canonical_ids, id_positions
from publisher.core.errors import PolicyError, show
from publisher.core.periods import period_starts
from publisher.core.ratings import Ratings, Scale
from publisher.core.validation import shown

__all__ = ["DateDomain", "Domain", "ItemDomain"]

#: A catalogue file is read up to this size; an id range may span this many ids.
MAX_CATALOGUE_BYTES = 256 * 1024 * 1024
MAX_ITEMS = 2_000_000
#: The longest item id a catalogue may list.
MAX_ID_CHARS = 64
#: Far-apart dates would make ratings_per_period tables huge for nothing.
MAX_DAYS = 200 * 366


@dataclass(frozen=True, kw_only=True)
class ItemDomain:
    """The items every item table lists, in table order.

    Attributes
    ----------
    ids : numpy.ndarray
        The public item ids (integers when every id is an integer, else text).
    spec : dict
        As written in the policy: ``{"range": [lo, hi]}`` or ``{"catalogue": path,
        "column": name, "sha256": digest}``.
    """

    ids: np.ndarray = field(compare=False, repr=False)
    spec: dict[str, Any]
    #: The catalogue file as read (None for a range), for the release's key check.
    file: PolicyFile | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_config(cls, config: Any, path: str, base: Path | None) -> ItemDomain:
        """Parse ``domain.items``; a catalogue path is relative to the policy's folder."""
        if not isinstance(config, dict) or len(set(config) & {"range", "catalogue"}) != 1:
            raise PolicyError(
                f"{path}: give either 'range: [FIRST, LAST]' or 'catalogue: FILE' "
                "(the public list of items the tables cover)"
            )
        if "range" in config:
            extra = set(config) - {"range"}
            if extra:
                raise PolicyError(f"{path}: unknown key {shown(sorted(extra)[0])} beside range")
            bounds = config["range"]
            if (
                not isinstance(bounds, list)
                or len(bounds) != 2
                or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                or bounds[0] > bounds[1]
            ):
                raise PolicyError(
                    f"{path}.range: must be [FIRST, LAST], two integers with FIRST <= LAST, "
                    f"got {shown(bounds, lists=True)}"
                )
            if max(abs(bounds[0]), abs(bounds[1])) >= 10**18:
                raise PolicyError(
                    f"{path}.range: ids must lie within -10**18 to 10**18, got "
                    f"{shown(bounds, lists=True)}"
                )
            if bounds[1] - bounds[0] + 1 > MAX_ITEMS:
                raise PolicyError(
                    f"{path}.range: {bounds[1] - bounds[0] + 1:,} ids, more than {MAX_ITEMS:,}; "
                    "list the real catalogue in a file instead"
                )
            ids = np.arange(bounds[0], bounds[1] + 1, dtype=np.int64)
            return cls(ids=ids, spec={"range": [int(bounds[0]), int(bounds[1])]})
        extra = set(config) - {"catalogue", "column", "sha256"}
        if extra:
            raise PolicyError(f"{path}: unknown key {shown(sorted(extra)[0])} beside catalogue")
        name, column = config["catalogue"], config.get("column")
        if not isinstance(name, str) or not name:
            raise PolicyError(f"{path}.catalogue: must be a file path, got {shown(name)}")
        if column is not None and not isinstance(column, str):
            raise PolicyError(f"{path}.column: must be a column name, got {shown(column)}")
        read = read_policy_file(name, base, f"{path}.catalogue", MAX_CATALOGUE_BYTES)
        file, raw = read.path, read.data
        digest = hashlib.sha256(raw).hexdigest()
        pinned = config.get("sha256")
        if pinned is not None and pinned != digest:
            raise PolicyError(
                f"{path}.sha256: {file} has SHA-256 {digest}, not the {pinned} the policy "
                "pins; the catalogue changed"
            )
        ids = _parse_catalogue(raw, column, f"{path}.catalogue ({file})")
        spec: dict[str, Any] = {"catalogue": name}
        if column is not None:
            spec["column"] = column
        spec["sha256"] = digest
        return cls(ids=ids, spec=spec, file=read)

    def positions(self, item_ids: np.ndarray) -> np.ndarray:
        """For each of the data's item codes, its row in the tables, or -1 (not counted)."""
        return id_positions(self.ids, item_ids)

    def describe(self) -> str:
        """The rule in words, for reports."""
        if "range" in self.spec:
            lo, hi = self.spec["range"]
            return f"items with ids {lo} to {hi} ({len(self.ids):,} rows)"
        return f"the {len(self.ids):,} items of the catalogue {self.spec['catalogue']}"


def _parse_catalogue(raw: bytes, column: str | None, where: str) -> np.ndarray:
    """Ids from a CSV with a header naming ``column``, or one id per line without one."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PolicyError(f"{where}: not valid UTF-8") from None
    if column is None:
        values = pd.Series([line.strip() for line in text.splitlines()], dtype=str)
        values = values[values != ""]
    else:
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, ValueError) as exc:
            raise PolicyError(f"{where}: cannot parse ({str(exc).splitlines()[0]})") from None
        if column not in frame.columns:
            raise PolicyError(
                f"{where}: no column {shown(column)}; "
                f"columns: {show(', '.join(map(str, frame.columns)), 200)[1:-1]}"
            )
        values = frame[column].str.strip()
    if values.empty or (values == "").any():
        raise PolicyError(f"{where}: lists no items, or an empty id")
    # An id is a short printable name: anything else is not a catalogue of items.
    bad = ~values.map(lambda v: len(v) <= MAX_ID_CHARS and v.isprintable()).to_numpy(bool)
    if bad.any():
        raise PolicyError(
            f"{where}: {shown(values[bad].iloc[0])} is not an item id (ids are printable, "
            f"at most {MAX_ID_CHARS} characters)"
        )
    if len(values) > MAX_ITEMS:
        raise PolicyError(f"{where}: more than {MAX_ITEMS:,} items")
    canonical = canonical_ids(values.to_numpy())
    dup = canonical.duplicated()
    if dup.any():
        raise PolicyError(f"{where}: item {shown(canonical[dup][0])} is listed twice")
    return _as_ids(values.to_numpy())  # the readers' rule: integers when every id is one


def _day(value: Any, where: str) -> int:
    day = value.date() if isinstance(value, dt.datetime) else value
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            day = None
    if not isinstance(day, dt.date) or day.year < 1900:
        # Name what the organizer wrote (a date object prints as the text it came from).
        shown = day.isoformat() if isinstance(day, dt.date) else repr(value)
        raise PolicyError(f"{where}: must be a date YYYY-MM-DD from 1900 on, got {shown}")
    return (day - dt.date(1970, 1, 1)).days


@dataclass(frozen=True, kw_only=True)
class DateDomain:
    """The days ``first`` to ``last`` (days since 1970-01-01, both included)."""

    first: int
    last: int

    @classmethod
    def from_config(cls, config: Any, path: str) -> DateDomain:
        """Parse ``domain.dates: {from: YYYY-MM-DD, to: YYYY-MM-DD}``."""
        if not isinstance(config, dict) or set(config) != {"from", "to"}:
            raise PolicyError(f"{path}: must be {{from: YYYY-MM-DD, to: YYYY-MM-DD}}")
        first, last = _day(config["from"], f"{path}.from"), _day(config["to"], f"{path}.to")
        if first > last:
            raise PolicyError(f"{path}: from must not be after to")
        if last - first > MAX_DAYS:
            raise PolicyError(f"{path}: spans more than 200 years")
        return cls(first=first, last=last)

    def periods(self, period: str) -> np.ndarray:
        """Start day of every period that meets the range, in order."""
        return np.unique(period_starts(np.arange(self.first, self.last + 1), period))

    def iso(self) -> tuple[str, str]:
        """The range as ISO dates."""
        epoch = dt.date(1970, 1, 1)
        return (
            (epoch + dt.timedelta(days=self.first)).isoformat(),
            (epoch + dt.timedelta(days=self.last)).isoformat(),
        )


@dataclass(frozen=True, kw_only=True)
class Domain:
    """The ``aggregates.domain`` section: the rows of every noisy table.

    Attributes
    ----------
    items : ItemDomain or None
        Required by item_count, item_mean and item_histogram.
    dates : DateDomain or None
        Required by ratings_per_period; when given, every statistic counts only
        ratings dated within it.
    scale : Scale or None
        The rating values; None means the input's declared scale.
    """

    items: ItemDomain | None = None
    dates: DateDomain | None = None
    scale: Scale | None = None

    @classmethod
    def from_config(cls, config: Any, path: str, base: Path | None = None) -> Domain:
        """Parse the section (absent: an empty domain)."""
        if config is None:
            return cls()
        if not isinstance(config, dict):
            raise PolicyError(f"{path}: must be a mapping with items, dates and/or scale")
        unknown = set(config) - {"items", "dates", "scale"}
        if unknown:
            raise PolicyError(
                f"{path}: unknown key {shown(sorted(unknown)[0])}; use items, dates, scale"
            )
        scale = None
        if config.get("scale") is not None:
            try:
                scale = Scale.parse(str(config["scale"]))
            except ValueError as exc:
                raise PolicyError(f"{path}.scale: {exc}") from None
        return cls(
            items=(
                ItemDomain.from_config(config["items"], f"{path}.items", base)
                if config.get("items") is not None
                else None
            ),
            dates=(
                DateDomain.from_config(config["dates"], f"{path}.dates")
                if config.get("dates") is not None
                else None
            ),
            scale=scale,
        )

    def scale_of(self, ratings: Ratings, path: str, why: str) -> Scale:
        """The declared scale, else the input's declared one; an inferred one is refused.

        ``path`` names the section (``aggregates.domain``), ``why`` what would depend on
        a scale taken from the data.
        """
        if self.scale is not None:
            return self.scale
        if ratings.scale_inferred:
            raise PolicyError(
                f"{path}.scale: the rating scale {ratings.scale} was inferred from the data, "
                f"so {why}; declare it with 'scale: {ratings.scale}' under {path} (or pass "
                "--scale)"
            )
        return ratings.scale

    def to_dict(self) -> dict[str, Any]:
        """As written in a policy (a catalogue pinned by its SHA-256)."""
        out: dict[str, Any] = {}
        if self.items is not None:
            out["items"] = dict(self.items.spec)
        if self.dates is not None:
            first, last = self.dates.iso()
            out["dates"] = {"from": first, "to": last}
        if self.scale is not None:
            out["scale"] = str(self.scale)
        return out

    def describe(self, scale: Scale) -> str:
        """The rows of the tables and the public rule, in one sentence."""
        parts = []
        if self.items is not None:
            parts.append(self.items.describe())
        if self.dates is not None:
            first, last = self.dates.iso()
            parts.append(f"dates {first} to {last}")
        parts.append(f"ratings on the scale {self.scale or scale}")
        return (
            "The tables list exactly the declared domain, whatever the data holds: "
            + "; ".join(parts)
            + ". Ratings outside it are not counted."
        )
