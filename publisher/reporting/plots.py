"""Report figures drawn with matplotlib from report.json alone, as SVG data URIs.

Each function takes the report dict and returns a ``data:image/svg+xml;base64,...``
string, or None when the report holds nothing to draw. Drawing only from
report.json lets ``publisher report DIR`` re-render a bundle's report exactly.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display is needed or wanted

import matplotlib.pyplot as plt
import numpy as np

from publisher.core.adversary import CONFIDENCE

__all__ = ["FIGURES", "figures"]

ORIGINAL, RELEASED = "#9aa5b1", "#c2410c"
CORRECT, WRONG = "#15803d", "#b91c1c"
plt.rcParams.update(
    {
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",  # keep text as text: smaller, selectable, prints crisply
        "svg.hashsalt": "publisher",  # deterministic ids: the same report renders the same bytes
    }
)


def _uri(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _short(entry: dict[str, Any], k: int) -> str:
    return f"A{k + 1}: {entry['description']}".replace(", ", "\n", 1)


def reidentification(report: dict[str, Any]) -> str | None:
    """Re-identified share per adversary, unprotected vs released, with their intervals."""
    linkage = report["linkage"]
    if not linkage:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 0.9 + 0.75 * len(linkage)))
    y = np.arange(len(linkage))
    for offset, side, colour, label in (
        (0.18, "original", ORIGINAL, "unprotected data"),
        (-0.18, "released", RELEASED, "this release"),
    ):
        if any(e[side] is None for e in linkage):  # withheld in the public view
            continue
        values = np.array([100 * e[side]["reidentified"] for e in linkage])
        lo = np.array([100 * e[side]["reidentified_ci"][0] for e in linkage])
        hi = np.array([100 * e[side]["reidentified_ci"][1] for e in linkage])
        ax.barh(y + offset, values, height=0.34, color=colour, label=label)
        ax.errorbar(
            values,
            y + offset,
            xerr=[values - lo, hi - values],
            fmt="none",
            ecolor="#111827",
            capsize=3,
            linewidth=1,
        )
    limits = report.get("gate", {}).get("thresholds", {}).get("max_reidentification_rate") or []
    for k, limit in enumerate(limits):
        if limit is not None:
            ax.plot(
                [100 * limit] * 2,
                [k - 0.45, k + 0.45],
                color="#111827",
                linestyle="--",
                linewidth=1,
                label="gate" if k == 0 else None,
            )
    ax.set_yticks(y, [_short(e, k) for k, e in enumerate(linkage)])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("targets re-identified (%)")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.1 / len(linkage)), ncol=3, frameon=False
    )
    return _uri(fig)


def eccentricity(report: dict[str, Any]) -> str | None:
    """How far the best match stands out, when it is right and when it is wrong (release)."""
    linkage = report["linkage"]
    if not linkage:
        return None
    fig, axes = plt.subplots(
        1, len(linkage), figsize=(2.6 * len(linkage), 2.3), sharey=True, squeeze=False
    )
    for k, (ax, entry) in enumerate(zip(axes[0], linkage, strict=True)):
        hist = entry["released"]["eccentricity_histogram"]
        edges = np.array(hist["edges"])
        width = np.diff(edges)
        ax.bar(
            edges[:-1],
            hist["correct"],
            width=width,
            align="edge",
            color=CORRECT,
            alpha=0.8,
            label="best match is the target",
        )
        ax.bar(
            edges[:-1],
            hist["wrong"],
            width=width,
            align="edge",
            color=WRONG,
            alpha=0.6,
            bottom=hist["correct"],
            label="best match is someone else",
        )
        ax.axvline(entry["phi"], color="#111827", linestyle="--", linewidth=1)
        ax.set_title(f"A{k + 1}", fontsize=9)
        ax.set_xlabel("eccentricity")
    axes[0][0].set_ylabel("targets")
    axes[0][-1].legend(frameon=False, fontsize=7, loc="upper right")
    return _uri(fig)


def precision_recall(report: dict[str, Any]) -> str | None:
    """Precision and recall of the attacker's claims as the threshold phi varies (release)."""
    linkage = report["linkage"]
    if not linkage:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.0, 2.5))
    for k, entry in enumerate(linkage):
        curve = entry["released"]["precision_recall"]
        phi = [p["phi"] for p in curve]
        left.plot(phi, [100 * p["recall"] for p in curve], label=f"A{k + 1}")
        right.plot(
            phi,
            [np.nan if p["precision"] is None else 100 * p["precision"] for p in curve],
            label=f"A{k + 1}",
        )
    for ax, name in (
        (left, "recall: targets correctly claimed (%)"),
        (right, "precision: claims that are right (%)"),
    ):
        ax.axvline(linkage[0]["phi"], color="#111827", linestyle="--", linewidth=1)
        ax.set_xlabel("claim threshold phi")
        ax.set_ylabel(name)
        ax.set_ylim(0, 102)
    left.legend(frameon=False)
    return _uri(fig)


def uniqueness(report: dict[str, Any]) -> str | None:
    """Share of users singled out by m of their own items, unprotected vs released."""
    entries = report["uniqueness"]
    if not entries:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 2.6))
    styles = {"items": ":", "ratings": "-", "ratings_dates": "--", "items_period": "-."}
    for dataset, colour in (("original", ORIGINAL), ("released", RELEASED)):
        rows = sorted(
            (e for e in entries if e["dataset"] == dataset), key=lambda e: e["known_items"]
        )
        if not rows:  # the public view has no entries of the original: no legend for them
            continue
        ms = [e["known_items"] for e in rows]
        for mode, style in styles.items():
            values = [e.get(f"unique_{mode}") for e in rows]
            if any(v is None for v in values):
                continue
            ax.plot(
                ms,
                [100 * v for v in values],
                style,
                marker="o",
                color=colour,
                label=f"{'unprotected' if dataset == 'original' else 'release'}: "
                f"{mode.replace('_', ' + ')}",
            )
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({e["known_items"] for e in entries}))
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("known items m")
    ax.set_ylabel("users unique (%)")
    ax.set_ylim(0, 102)
    ax.legend(frameon=False, fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _uri(fig)


def distributions(report: dict[str, Any]) -> str | None:
    """Rating histogram and item popularity before and after the policy."""
    data = report.get("distributions")
    if not data:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.0, 2.5))
    hist = data["rating_histogram"]
    values = np.array(hist["values"])
    width = (values[1] - values[0]) * 0.4 if len(values) > 1 else 0.4
    for side, colour, shift, label in (
        ("original", ORIGINAL, -width / 2, "unprotected"),
        ("released", RELEASED, width / 2, "release"),
    ):
        if hist[side] is None:  # withheld in the public view
            continue
        counts = np.array(hist[side], dtype=float)
        left.bar(
            values + shift,
            100 * counts / max(counts.sum(), 1),
            width=width,
            color=colour,
            label=label,
        )
    left.set_xlabel("rating")
    left.set_ylabel("share of ratings (%)")
    left.legend(frameon=False)
    for side, colour, label in (
        ("original", ORIGINAL, "unprotected"),
        ("released", RELEASED, "release"),
    ):
        points = np.array(data["item_popularity"][side] or [])
        if len(points):
            right.plot(points[:, 0], points[:, 1], color=colour, label=label)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("item rank")
    right.set_ylabel("raters")
    right.legend(frameon=False)
    return _uri(fig)


def utility(report: dict[str, Any]) -> str | None:
    """Holdout RMSE of both predictors, fitted on the unprotected data and on the release."""
    data = report.get("utility") or {}
    if "original" not in data:
        return None
    fig, ax = plt.subplots(figsize=(7.0, 1.8))
    labels = ["baseline", "matrix factorization"]
    keys = ["baseline_rmse", "mf_rmse"]
    y = np.arange(2)
    ax.barh(
        y + 0.18,
        [data["original"][k] for k in keys],
        height=0.34,
        color=ORIGINAL,
        label="fitted on unprotected data",
    )
    ax.barh(
        y - 0.18,
        [data["released"][k] for k in keys],
        height=0.34,
        color=RELEASED,
        label="fitted on the release",
    )
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("RMSE on the holdout (lower is better)")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _uri(fig)


#: Figure builders in report order, with their captions.
FIGURES = (
    (
        "reidentification",
        reidentification,
        "Share of targets re-identified by each adversary (A1, A2, ...) on this release and, in "
        "the review copy, on the unprotected data. Bars show the "
        f"{CONFIDENCE} Wilson interval; the dashed line is the gate.",
    ),
    (
        "eccentricity",
        eccentricity,
        "How far the attacker's best match stands out (eccentricity) on this release, when it is "
        "the target and when it is someone else. Right of the dashed line the attacker claims "
        "a match.",
    ),
    (
        "precision_recall",
        precision_recall,
        "If the attacker claimed at other thresholds: how many targets it would get right "
        "(recall) and how many of its claims would be right (precision).",
    ),
    (
        "uniqueness",
        uniqueness,
        "Share of users singled out by m of their own original ratings (exactly one record "
        "matches, and it is theirs): items alone (dotted), "
        "with exact ratings (solid), and also with dates (dashed; tolerance in the table).",
    ),
    (
        "utility",
        utility,
        "Prediction error on the same held-out ratings of a baseline predictor and a matrix "
        "factorization, each fitted on the unprotected data and on this release.",
    ),
    (
        "distributions",
        distributions,
        "What the policy did to the data: the rating histogram and the item popularity curve.",
    ),
)


def figures(report: dict[str, Any]) -> list[dict[str, str]]:
    """All figures that the report holds data for: name, caption and data URI."""
    out = []
    for name, build, caption in FIGURES:
        uri = build(report)
        if uri is not None:
            out.append({"name": name, "caption": caption, "uri": uri})
    return out
