"""report.md and report.html, rendered from report.json alone.

The Markdown fits a review ticket: a one-screen summary (verdict, the worst
adversary on the unprotected data and on the release, the biggest risk driver),
then the tables. The HTML is one self-contained file (inline CSS, figures as SVG
data URIs, no script, no request leaves the page) that reads on screen and on paper.
"""

from __future__ import annotations

from typing import Any

from publisher.core.adversary import CONFIDENCE, DEFAULT_PHI, DEFAULT_POSTERIOR, MATCH_MODES
from publisher.reporting.escape import escape
from publisher.reporting.format import WITHHELD, attacker, count, number, pct, risk
from publisher.reporting.phrases import (
    KNOWLEDGE_LEAD,
    PORTFOLIO_LEAD,
    PUBLIC_NOTE,
    SCORERS_LEAD,
    UNIQUENESS_LEAD,
    has_microdata,
    is_public,
    knowledge_rows,
    published_text,
    scorer_rows,
    summary,
    uniqueness_modes,
    verdict_text,
)

#: The model utility audit's predictors, in words.
MODEL_NAMES = {
    "constant": "constant (scale midpoint)", "global_mean": "global mean",
    "global_effects": "global effects (non-private)", "svd": "SVD (non-private)",
    "knn": "kNN (non-private)", "dp_svd": "DP SVD (this release)",
    "dp_knn": "DP kNN (this release)", "dp_svd_uncleaned": "DP SVD before cleaning",
    "dp_knn_uncleaned": "DP kNN before cleaning",
}  # fmt: skip

__all__ = ["claim_posterior", "explain_adversary", "render_html", "render_markdown"]


def explain_adversary(adversary: dict[str, Any], scale: str) -> str:
    """Plain language for one adversary of report.json."""
    m, w = adversary["known_items"], adversary["wrong_items"]
    t, d = adversary["rating_tolerance"], adversary["date_tolerance_days"]
    items = (
        f"{m} items the customer rated"
        if not w
        else (f"{m} items, of which {w} the customer never rated (misremembered)")
    )
    ratings = "the exact rating of each" if not t else f"each rating give or take {t:g}"
    dates = (
        "nothing about dates"
        if d is None
        else "the exact day of each rating"
        if d == 0
        else f"roughly when each was rated (within {d} days)"
    )
    where = (
        ""
        if adversary["items"] == "any"
        else f", only among items outside the {adversary['items']['exclude_top']} most rated"
    )
    return (
        f"Knows {items}{where}; {ratings} (scale {scale}); {dates}. This is what a friend, a "
        "public review site or a blog post can reveal."
    )


def _control(control: dict[str, Any] | None, public: bool) -> str:
    if control is not None:
        return pct(control["false_claims"])
    return WITHHELD if public else "no users removed"


DATES_LEAD = (
    "An attacker who holds a customer's released ratings and knows the policy's date "
    "steps estimates each true date (the released date, the mean or the midpoint of the "
    "customer's dates within the attacker's window); the share of a target's dates "
    "recovered within the tolerance, averaged over targets, best estimator, "
    f"{CONFIDENCE} bootstrap interval"
)

DECOYS_LEAD = (
    "A gradient-boosting classifier, told which rows of half the released customers are "
    "decoys or moved, scores the rows of the other half: ROC AUC 0.5 means it cannot tell "
    f"them from real ratings, 1 that it always can ({CONFIDENCE} bootstrap interval over "
    "customers)"
)


def row_audit_lines(report: dict[str, Any]) -> dict[str, Any]:
    """The date recovery rows and the decoy sentence, for every rendering of the report.

    Returns
    -------
    dict
        ``dates``: one (tolerance, unprotected, released) triple of texts per tolerance;
        ``decoys``: one sentence, or None when the policy adds and moves no rows.
    """

    def side(figure: dict[str, Any] | None) -> str:
        if figure is None:
            return WITHHELD
        low, high = figure["recovered_ci"]
        return f"{pct(figure['recovered'])} [{pct(low)}, {pct(high)}] ({figure['estimator']})"

    dates = [
        (
            f"within {entry['tolerance_days']} days",
            side(entry["original"]),
            side(entry["released"]),
        )
        for entry in report.get("date_recovery") or []
    ]
    found = report.get("distinguishability")
    decoys = None
    if found is not None:
        kinds = ", ".join(found["kinds"])
        if found["auc"] is None:
            decoys = f"Rows added or moved by {kinds}: no figure ({found['note']})."
        else:
            low, high = found["auc_ci"]
            decoys = (
                f"Rows added or moved by {kinds}: ROC AUC {found['auc']:.3f} "
                f"[{low:.3f}, {high:.3f}] on {count(found['customers'])} sampled customers."
            )
    return {"dates": dates, "decoys": decoys}


def claim_posterior(report: dict[str, Any]) -> float:
    """The posterior threshold the likelihood scorer claimed at."""
    for entry in report["linkage"]:
        for attack in entry.get("portfolio") or []:
            side = attack["released"]
            if side and side.get("rule") == "posterior":
                return float(side["threshold"])
    return DEFAULT_POSTERIOR


def render_markdown(report: dict[str, Any]) -> str:
    """Render report.md.

    Parameters
    ----------
    report : dict
        report.json.

    Returns
    -------
    str
    """
    head = summary(report)
    source = report["input"]
    gate = report["gate"]
    lines = [
        f"# Risk report: policy {escape(report['policy']['name'])} on {escape(source['name'])}",
        "",
        f"**Verdict: {verdict_text(report)}.** Thresholds are compared with the "
        f"{gate['statistic']}.",
        "",
    ]
    public = is_public(report)
    if public:
        lines += [PUBLIC_NOTE, ""]
    if head["worst_released"] is not None:
        on_release = report["linkage"][head["worst_released"]["adversary"]]
        lines += [
            "| | adversary | unprotected data | this release |",
            "|---|---|---|---|",
            f"| worst on this release | {on_release['description']} | "
            f"{risk(on_release['original'])} | {risk(on_release['released'])} |",
        ]
        if head["worst_unprotected"] is not None:
            on_original = report["linkage"][head["worst_unprotected"]["adversary"]]
            lines.append(
                f"| worst on the unprotected data | {on_original['description']} | "
                f"{risk(on_original['original'])} | {risk(on_original['released'])} |"
            )
        lines += [
            "",
            f"Biggest risk driver: {head['drivers'][0]}."
            + (f" Also: {'; '.join(head['drivers'][1:])}." if len(head["drivers"]) > 1 else ""),
            "",
            f"Random guessing would re-identify {pct(on_release['baseline'], 2)}.",
            "",
        ]
    for failure in gate["failures"]:
        lines.append(f"- failed: {failure}")
    for close in gate.get("close_calls", []):
        lines.append(f"- close to the threshold: {close}")
    if gate["failures"] or gate.get("close_calls"):
        lines.append("")
    lines += [
        f"{published_text(report)} Tool {report['tool']['name']} {report['tool']['version']}, "
        f"{report['created']}, randomness: {report['randomness']}.",
        "",
    ]
    if not has_microdata(report):
        # nothing to link, single out or measure: what was released and what it guarantees
        error = (report.get("utility") or {}).get("dp_item_mean_relative_error")
        if error is not None:
            lines += [
                "Differentially private per-item means: mean relative error "
                f"{pct(error)} against the true means.",
                "",
            ]
        return "\n".join(lines + model_lines(report) + _guarantee_lines(report))
    lines += [
        "## Re-identification (the attack portfolio)",
        "",
        "| # | adversary | targets | unprotected | released | top-1 | false claims "
        "| control false claims | P(true) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, entry in enumerate(report["linkage"], 1):
        control = entry["control"]
        lines.append(
            f"| A{k} | {entry['description']} | {count(entry['targets'])} | "
            f"{risk(entry['original'])}{attacker(entry['original'])} | "
            f"{risk(entry['released'])}{attacker(entry['released'])} | "
            f"{pct(entry['released']['top1'])} | "
            f"{pct(entry['released']['false_claims'])} | "
            f"{_control(control, public)} | "
            f"{pct(entry['released']['mean_true_probability'])} |"
        )
    lines += [
        "",
        "Targets: released customers attacked per adversary (each row says how many). "
        "Unprotected: the same adversary against the data before the policy, its targets "
        "drawn from all eligible customers, once per adversary (every report of this data "
        "in one run shows the same attacks on the original itself; the attack through the "
        "policy's suppression steps is this policy's own). A claim needs "
        f"eccentricity >= {report['linkage'][0]['phi'] if report['linkage'] else DEFAULT_PHI:g} "
        f"(a posterior >= {claim_posterior(report):g} for the likelihood scorer). "
        f"Intervals are {CONFIDENCE} Wilson intervals.",
        "",
        PORTFOLIO_LEAD,
        "",
        f"{KNOWLEDGE_LEAD}:",
        "",
        "| # | knowledge | targets | known items in the release | worst on the release |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in knowledge_rows(report)),
        "",
        f"{SCORERS_LEAD}:",
        "",
        "| # | scorer | knowledge | rule | re-identified | precision | other rule "
        "| re-identified | precision |",
        "|---|---|---|---|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in scorer_rows(report)),
        "",
    ]
    lines.extend(f"- note: {note}" for note in head["notes"])
    lines += [
        "",
        "## Uniqueness",
        "",
        f"{UNIQUENESS_LEAD}; matching on {uniqueness_modes(report)}.",
        "",
        "| m | unprotected | released |",
        "|---|---|---|",
    ]
    by_m: dict[int, dict[str, dict[str, Any]]] = {}
    for entry in report["uniqueness"]:
        by_m.setdefault(entry["known_items"], {})[entry["dataset"]] = entry
    for m, sides in sorted(by_m.items()):
        cells = [
            " / ".join(pct(sides[d].get(f"unique_{mode}")) for mode in MATCH_MODES)
            if d in sides
            else WITHHELD
            if public and d == "original"
            else "n/a"
            for d in ("original", "released")
        ]
        lines.append(f"| {m} | {cells[0]} | {cells[1]} |")
    rows = row_audit_lines(report)
    if rows["dates"] or rows["decoys"]:
        lines += ["", "## Dates and decoys", ""]
    if rows["dates"]:
        lines += [
            f"{DATES_LEAD}.",
            "",
            "| true dates recovered | unprotected | released |",
            "|---|---|---|",
        ]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in rows["dates"]]
    if rows["decoys"]:
        lines += (
            ["", f"{DECOYS_LEAD}. {rows['decoys']}"]
            if rows["dates"]
            else [f"{DECOYS_LEAD}. {rows['decoys']}"]
        )
    utility = report.get("utility") or {}
    if "original" in utility:
        kept = utility["kept"]
        lines += [
            "",
            "## Utility",
            "",
            f"Holdout: {count(utility['holdout']['ratings'])} ratings of "
            f"{count(utility['holdout']['users'])} customers "
            f"({pct(utility['holdout']['fraction'], 0)} of each).",
            "",
            "| measure | unprotected | release |",
            "|---|---|---|",
            f"| RMSE, baseline (mean + biases) | {utility['original']['baseline_rmse']:.4f} | "
            f"{utility['released']['baseline_rmse']:.4f} |",
            f"| RMSE, matrix factorization | {utility['original']['mf_rmse']:.4f} | "
            f"{utility['released']['mf_rmse']:.4f} |",
            "",
            f"Rating histogram total variation distance {utility['rating_histogram_tvd']:.3f}; "
            "Spearman correlation of item popularity "
            f"{number(utility['item_popularity_spearman'])}; "
            f"kept {pct(kept['ratings'])} of ratings, {pct(kept['users'])} of customers, "
            f"{pct(kept['items'])} of items.",
        ]
    if public and report["linkage"]:
        lines += [
            "",
            "## Utility",
            "",
            "Utility is measured against the original data (RMSE on a holdout of it, the "
            "share of ratings kept): those figures are in the review copy.",
        ]
    if utility.get("dp_item_mean_relative_error") is not None:
        lines += [
            "",
            "Differentially private per-item means: mean relative error "
            f"{pct(utility['dp_item_mean_relative_error'])} against the true means.",
        ]
    lines += ["", "## Steps", ""]
    if public:
        lines += ["| # | step | parameters | what it does |", "|---|---|---|---|"]
    else:
        lines += [
            "| # | step | parameters | ratings | customers | items |",
            "|---|---|---|---|---|---|",
        ]
    for k, step in enumerate(report["steps"], 1):
        params = ", ".join(f"{key}={value}" for key, value in step["config"].items()) or "-"
        b, a = step["before"], step["after"]
        if public:
            lines.append(f"| {k} | `{step['name']}` | {params} | {step['description']} |")
            continue
        lines.append(
            f"| {k} | `{step['name']}` | {params} | "
            + " | ".join(f"{count(b[n])} -> {count(a[n])}" for n in ("ratings", "users", "items"))
            + " |"
        )
    return "\n".join([*lines, "", *_guarantee_lines(report)])


def model_lines(report: dict[str, Any]) -> list[str]:
    """The model section: what was declared and, in the review copy, how well it predicts."""
    model = report.get("model")
    if model is None:
        return []
    declared = model["declared"]
    lines = [
        "## The recommender model",
        "",
        f"{model['statement']} Unit {declared['unit']}, rank {declared['rank']}, budget split "
        + ", ".join(f"{k} {v:g}" for k, v in declared["split"].items())
        + ". Files under `model/`; predict with `publisher predict`.",
        "",
    ]
    utility = model.get("utility")
    if utility is None:
        lines += [
            "Its accuracy is measured on ratings of the original held out of the model: "
            "those figures are in the review copy.",
            "",
        ]
        return lines
    names = MODEL_NAMES
    lines += [
        f"RMSE on {count(utility['holdout']['ratings'])} held-out ratings "
        f"({pct(utility['holdout']['fraction'], 0)}, never seen by the model):",
        "",
        "| predictor | RMSE |",
        "|---|---|",
        *(f"| {names[k]} | {v:.4f} |" for k, v in utility["rmse"].items()),
        "",
    ]
    if utility["worse_than"]:
        lines += [
            "**The released model predicts no better than "
            + ", ".join(names[k] for k in utility["worse_than"])
            + ": it is not useful for rating prediction at this epsilon and data size.**",
            "",
        ]
    return lines


def _guarantee_lines(report: dict[str, Any]) -> list[str]:
    components = report["privacy_budget"]["components"]
    lines = ["## What is guaranteed, and what is not", ""]
    if components:
        lines += [
            "| component | mechanism | epsilon | delta | over | covers |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| `{c['step']}` | {c['mechanism']} | {c['epsilon']:.4g} | {c['delta']:g} | "
            f"{c['scope']} | {c.get('covers', '')} |"
            for c in components
        ]
        lines.append("")
    lines += [
        report["privacy_budget"]["statement"],
        "",
    ]
    if has_microdata(report):
        lines += [
            "The audit figures are estimates from a sample of targets against the adversaries "
            "above; a stronger adversary (more known items, better dates) can do better.",
            "",
        ]
    return lines


def render_html(report: dict[str, Any]) -> str:
    """Render report.html: one self-contained page.

    Parameters
    ----------
    report : dict
        report.json.

    Returns
    -------
    str
    """
    # matplotlib and jinja2 (0.3 s) load when a page is drawn, not when the engine is
    # imported: a dry run and a release's audit never need them before the bundle.
    from publisher.reporting.pages import render_page
    from publisher.reporting.plots import figures

    return render_page(
        "report.html.j2",
        report=report,
        head=summary(report),
        published=published_text(report),
        public=is_public(report),
        microdata=has_microdata(report),
        model=report.get("model"),
        model_names=MODEL_NAMES,
        public_note=PUBLIC_NOTE,
        uniqueness_modes=uniqueness_modes(report),
        uniqueness_lead=UNIQUENESS_LEAD,
        rows=row_audit_lines(report),
        portfolio_lead=PORTFOLIO_LEAD,
        knowledge_lead=KNOWLEDGE_LEAD,
        knowledge=knowledge_rows(report),
        scorers_lead=SCORERS_LEAD,
        scorers=scorer_rows(report),
        dates_lead=DATES_LEAD,
        decoys_lead=DECOYS_LEAD,
        default_phi=DEFAULT_PHI,
        verdict_text=verdict_text(report),
        figures=figures(report),
        explain=lambda adversary: explain_adversary(adversary, report["input"]["scale"]),
    )
