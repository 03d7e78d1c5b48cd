"""Sentences every view of report.json shares: the summary, what was published, the modes.

report.md, report.html and the terminal phrase these the same way because they call
these functions; the figures in them come from report.json.
"""

from __future__ import annotations

from typing import Any

from publisher.reporting.format import count
from publisher.reporting.report_json import summarize

__all__ = [
    "KNOWLEDGE_LEAD",
    "PUBLIC_NOTE",
    "SCORERS_LEAD",
    "UNGATED",
    "UNIQUENESS_LEAD",
    "has_microdata",
    "is_public",
    "knowledge_rows",
    "published_text",
    "scorer_rows",
    "summary",
    "uniqueness_modes",
    "verdict_text",
]

#: What every public view says about the figures it leaves out.
PUBLIC_NOTE = (
    "This is the public report: figures of the original data (its counts, each step's "
    "counts, the attack on the unprotected data, utility measured against the original) "
    "are withheld. The privacy reviewer's signed review copy holds them."
)


#: What every view says of a release published under ``gate: none``.
UNGATED = (
    "NOT GATED: the policy declares 'gate: none', so no risk threshold was checked before "
    "this release was published"
)

_VERDICTS = {
    "pass": "PASS: every gate threshold is met",
    "fail": "FAIL: a gate threshold is exceeded, so the data is not published",
    "not-gated": "NOT GATED: the policy sets no threshold",
}


def verdict_text(report: dict[str, Any]) -> str:
    """The verdict in words, the same in every view (report.md, report.html, the datasheet)."""
    if report["verdict"] == "not-gated":
        if report["gate"].get("ungated"):
            return UNGATED
        if not has_microdata(report):
            return (
                "NOT GATED: only differentially private aggregates are published, no ratings "
                "table to attack"
            )
    return _VERDICTS[report["verdict"]]


def is_public(report: dict[str, Any]) -> bool:
    """Whether ``report`` is the public view (figures of the original withheld)."""
    return report.get("view") == "public"


def has_microdata(report: dict[str, Any]) -> bool:
    """Whether the release holds a ratings table (not only DP aggregates)."""
    return bool(report["linkage"]) or report["released"]["ratings"] > 0


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """report.json's ``summary`` (computed for a report written before it existed)."""
    return report.get("summary") or summarize(report)


def published_text(report: dict[str, Any]) -> str:
    """What was published, or, for a rejected release, that nothing was."""
    source, released = report["input"]["counts"], report["released"]
    if not has_microdata(report):
        what = (
            "a differentially private recommender model (model/)"
            if report.get("model") is not None
            else "the differentially private aggregates only"
        )
        if source is not None and not summary(report)["published"]:
            return (
                f"Nothing was published. Had the gate passed, the release would have held {what}."
            )
        return f"Published {what}; no ratings table."
    if source is None:  # the public view: only what was published
        return (
            f"Published {count(released['ratings'])} ratings of {count(released['users'])} "
            f"customers and {count(released['items'])} items."
        )
    shares = (
        f"{count(released['ratings'])} of {count(source['ratings'])} ratings, "
        f"{count(released['users'])} of {count(source['users'])} customers and "
        f"{count(released['items'])} of {count(source['items'])} items"
    )
    if not summary(report)["published"]:
        return f"Nothing was published. Had the gate passed, the release would have held {shares}."
    return f"Published {shares}."


#: What the uniqueness figures count, in every view.
UNIQUENESS_LEAD = (
    "Share of customers singled out by m of their own ratings: exactly one record matches "
    "what the adversary knows (the customer's ORIGINAL values and dates; on the release, of "
    "items the release lists, as an attacker meets it) and it is the customer's own"
)


def uniqueness_modes(report: dict[str, Any]) -> str:
    """The four matching modes of the uniqueness audit, with its date tolerance and period."""
    days = next(
        (e["date_tolerance_days"] for e in report["uniqueness"] if e.get("date_tolerance_days")),
        None,
    )
    period = next((e["period"] for e in report["uniqueness"] if e.get("period")), None)
    dates = f"dates within {days} days" if days is not None else "dates (none in the data)"
    released = (
        "items + the released day"
        if period == "day"
        else f"items + the released {period}"
        if period
        else "items + released period (no dates released: items alone)"
    )
    return f"items / + exact ratings / + {dates} / {released}"


#: How the re-identification figures are chosen, for every rendering.
PORTFOLIO_LEAD = (
    "Each figure is the worst case over three knowledge models and five scorers. The "
    "adversary's knowledge is drawn from the target's original ratings uniformly, from "
    "those of items the release lists (items are public: an attacker keeps what they know "
    "of listed films), or weighted by the item's raters (what people talk about). Every "
    "released record is scored by Scoreboard-RH as published, by the length-centred score "
    "(which heavy raters cannot crowd out), by cosine nearest neighbour on IDF-weighted "
    "item vectors and on ratings centred by their item's mean, and by a "
    "policy-aware likelihood that reads the published policy "
    "(randomized response, date steps, caps, sampling) and claims when the posterior of "
    "its best record reaches the posterior threshold; the others claim by eccentricity. "
    "The unprotected figure is also the worst over the original and the original passed "
    "through the policy's suppression steps with fresh randomness (an attacker of the "
    "unprotected data can apply them first). The attack is named where it is not "
    "Scoreboard-RH with original knowledge on the table itself."
)


#: What the knowledge table shows, in every view.
KNOWLEDGE_LEAD = (
    "What each knowledge model gave the attacker of the release: released customers "
    "attacked, how many of a target's known items the release lists on average (a policy "
    "that deletes items deletes the 'original' attacker's knowledge with them, not the "
    "others'), and the model's worst figure over the scorers"
)


def knowledge_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Per adversary and knowledge model: (adversary, model, targets, known, worst figure)."""
    from publisher.reporting.format import KNOWLEDGE_NAMES, SCORER_NAMES, count, risk

    rows = []
    for k, entry in enumerate(report["linkage"], 1):
        for stats in entry.get("knowledge") or []:
            model = stats["model"]
            attacks = [a for a in entry.get("portfolio") or [] if a["knowledge"] == model]
            worst = max(attacks, key=lambda a: a["released"]["reidentified"], default=None)
            figure = (
                f"{risk(worst['released'])} ({SCORER_NAMES[worst['scorer']]})"
                if worst is not None
                else "n/a"
            )
            known = stats.get("known_in_release")
            rows.append(
                (
                    f"A{k}",
                    KNOWLEDGE_NAMES[model],
                    count(stats["targets"]),
                    "n/a"
                    if known is None
                    else f"{known:.2f} of {entry['adversary']['known_items']}",
                    figure,
                )
            )
    return rows


#: What the per-scorer claims table shows, in every view.
SCORERS_LEAD = (
    "Claims of each scorer at its worst knowledge model, by both rules: eccentricity (the "
    "best record stands out from the second by phi standard deviations) and posterior (the "
    "scorer's probability of its best record reaches the threshold: the likelihood's own "
    "posterior, the entropic posterior exp(score / sigma) for the others). Precision counts "
    "the control set: a "
    "target drawn from every eligible customer of the original is in the release with the "
    "release's share, and otherwise one of the customers the policy removed, every claim "
    "on whom is false"
)


def _rule_text(side: dict[str, Any]) -> str:
    sign = "eccentricity" if side["rule"] == "eccentricity" else "posterior"
    return f"{sign} >= {side['threshold']:g}"


def scorer_rows(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """Per adversary and scorer (at its worst knowledge model), both claim rules.

    (adversary, scorer, knowledge, rule, re-identified, precision, other rule,
    re-identified, precision); precision reads ``withheld`` in the public view.
    """
    from publisher.reporting.format import KNOWLEDGE_NAMES, MISSING, SCORER_NAMES, WITHHELD, pct
    from publisher.reporting.format import risk as risk_text

    rows: list[tuple[str, ...]] = []
    for k, entry in enumerate(report["linkage"], 1):
        by_scorer: dict[str, dict[str, Any]] = {}
        for attack in entry.get("portfolio") or []:
            best = by_scorer.get(attack["scorer"])
            if (
                best is None
                or attack["released"]["reidentified"] > best["released"]["reidentified"]
            ):
                by_scorer[attack["scorer"]] = attack
        for name, attack in by_scorer.items():
            side = attack["released"]
            other = side.get("other_rule")
            precision = attack.get("precision")

            def of(rule: str, precision: dict[str, Any] | None = precision) -> str:
                if precision is None:
                    return WITHHELD
                return pct(precision.get(rule))

            rows.append(
                (
                    f"A{k}",
                    SCORER_NAMES[name],
                    KNOWLEDGE_NAMES[attack["knowledge"]],
                    _rule_text(side),
                    risk_text(side),
                    of(side["rule"]),
                    _rule_text(other) if other else "no posterior",
                    risk_text(other) if other else MISSING,
                    of(other["rule"]) if other else MISSING,
                )
            )
    return rows
