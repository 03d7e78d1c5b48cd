"""How figures are written in every view: one helper per kind of number.

The terminal, report.md, report.html and the datasheet all format through here, so a
missing value, a percentage or an interval reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "KNOWLEDGE_NAMES",
    "MISSING",
    "SCORER_NAMES",
    "WITHHELD",
    "attacker",
    "count",
    "counts_text",
    "number",
    "pct",
    "risk",
]

#: How every view shows a figure that was not measured or is undefined.
MISSING = "n/a"
#: How the public view shows a figure of the original data (it is in the review copy).
WITHHELD = "withheld"


def pct(value: float | None, digits: int = 1, missing: str = MISSING) -> str:
    """A fraction as a percentage, e.g. ``0.1234`` -> ``12.3%``; ``missing`` for None.

    Examples
    --------
    >>> pct(0.1234), pct(None), pct(0.00042, 2), pct(None, missing="")
    ('12.3%', 'n/a', '0.04%', '')
    """
    return missing if value is None else f"{100 * value:.{digits}f}%"


def number(value: float | None, digits: int = 3, missing: str = MISSING) -> str:
    """A plain number with ``digits`` decimals, or ``missing`` (:data:`MISSING`)."""
    return missing if value is None else f"{value:.{digits}f}"


def count(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def counts_text(counts: dict[str, int]) -> str:
    """``1,234 ratings, 56 users, 78 items``."""
    return (
        f"{count(counts['ratings'])} ratings, {count(counts['users'])} users, "
        f"{count(counts['items'])} items"
    )


def risk(side: dict[str, Any] | None) -> str:
    """A re-identification rate with its interval: ``12.3% [10.1%, 14.8%]``.

    None (a side the public view withholds) reads :data:`WITHHELD`.
    """
    if side is None:
        return WITHHELD
    lo, hi = side["reidentified_ci"]
    return f"{pct(side['reidentified'])} [{pct(lo)}, {pct(hi)}]"


#: The scorers and knowledge models as the views name them.
SCORER_NAMES = {
    "scoreboard-rh": "Scoreboard-RH",
    "centered": "centred score",
    "cosine": "cosine",
    "cosine-centered": "centred cosine",
    "likelihood": "likelihood",
}
KNOWLEDGE_NAMES = {
    "original": "original knowledge",
    "released": "knowledge of released items",
    "popular": "popular knowledge",
}


def attacker(side: dict[str, Any] | None) -> str:
    """Which attack gave a worst-case figure, when not Scoreboard-RH on original knowledge.

    Examples
    --------
    >>> attacker({"scorer": "centered", "attacked": "policy-simulated"})
    ' (centred score, policy simulated)'
    >>> attacker({"scorer": "likelihood", "knowledge": "released"})
    ' (likelihood, knowledge of released items)'
    >>> attacker({"scorer": "scoreboard-rh"})
    ''
    """
    if side is None:
        return ""
    parts = []
    if side.get("scorer", "scoreboard-rh") != "scoreboard-rh":
        parts.append(SCORER_NAMES[side["scorer"]])
    if side.get("knowledge", "original") != "original":
        parts.append(KNOWLEDGE_NAMES[side["knowledge"]])
    if side.get("attacked") == "policy-simulated":
        parts.append("policy simulated")
    return f" ({', '.join(parts)})" if parts else ""
