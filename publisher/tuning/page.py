"""frontier.html and the terminal table, drawn from frontier.json alone."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from publisher.reporting import plots  # noqa: F401  (the headless backend and the style)
from publisher.reporting.format import number, pct
from publisher.reporting.pages import render_page
from publisher.reporting.plots import _uri

__all__ = ["frontier_plot", "render_frontier_html", "terminal_table"]

PASS, FAIL, SCREEN, PRESET, REC = "#15803d", "#b91c1c", "#d1d5db", "#1d4ed8", "#f59e0b"


def _gate_limit(frontier: dict[str, Any]) -> float | None:
    limits = [v for v in frontier["gate"].get("max_reidentification_rate") or [] if v is not None]
    return min(limits) if limits else None


def frontier_plot(frontier: dict[str, Any]) -> str | None:
    """Two panels, risk upper bound (log scale) against utility lost and ratings kept.

    Left: the candidates audited in full (the objective needs the utility audit), the
    frontier, the recommendation with its re-audit and the presets. Right: every
    candidate evaluated, screened ones included, against the share of ratings kept
    (exact for every candidate).
    """
    candidates = [c for c in frontier["candidates"] if c["risk_upper"] is not None]
    if not candidates:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 4.2), sharey=True)
    audited = [c for c in candidates if c["rung"] == "full" and c["utility_lost"] is not None]
    for status, colour, label in (("failed", FAIL, "failed the gate"), ("passed", PASS, "passed")):
        points = [c for c in audited if c["status"] == status]
        if points:
            left.scatter(
                [c["utility_lost"] for c in points],
                [100 * c["risk_upper"] for c in points],
                s=22, color=colour, alpha=0.8, label=f"{label} ({len(points)})", zorder=3,
            )  # fmt: skip
    front = sorted((c["utility_lost"], 100 * c["risk_upper"]) for c in audited if c["on_frontier"])
    if front:
        left.step([x for x, _ in front], [y for _, y in front], where="post", color="#111827",
                  linewidth=1, label="frontier", zorder=2)  # fmt: skip
    for k, (name, figures) in enumerate(frontier["presets"].items()):
        if figures.get("utility_lost") is None:
            continue
        x, y = figures["utility_lost"], 100 * figures["risk_upper"]
        left.scatter([x], [y], marker="D", s=36, color=PRESET, zorder=4,
                     label="presets" if k == 0 else None)  # fmt: skip
        left.annotate(name, (x, y), textcoords="offset points", xytext=(6, -10 if k % 2 else 4),
                      color=PRESET)  # fmt: skip
    rec = frontier["recommended"]
    if rec is not None:
        for side, marker, label in (("search", "*", "recommended"), ("reaudit", "x", "re-audit")):
            figures = rec[side]
            if figures.get("utility_lost") is not None:
                left.scatter([figures["utility_lost"]], [100 * figures["risk_upper"]],
                             marker=marker, s=140 if marker == "*" else 60, color=REC, zorder=5,
                             label=f"{label} (#{rec['candidate']})")  # fmt: skip
    left.set_xlabel(f"utility lost: {frontier['objective']['name'].replace('_', ' ')}")
    left.set_ylabel("worst re-identification, upper bound (%)")
    for status, colour in (("passed", PASS), ("failed", FAIL), ("screened-out", SCREEN)):
        points = [c for c in candidates if c["status"] == status]
        kept = [(c["utility"] or {}).get("ratings_kept") for c in points]
        xy = [(100 * x, 100 * c["risk_upper"]) for x, c in zip(kept, points, strict=True) if x]
        if xy:
            right.scatter([x for x, _ in xy], [y for _, y in xy], s=16, color=colour,
                          alpha=0.8, label=f"{status} ({len(xy)})", zorder=3)  # fmt: skip
    right.set_xlabel("ratings kept (%)")
    limit = _gate_limit(frontier)
    for ax in (left, right):
        if limit is not None:
            ax.axhline(100 * limit, color="#111827", linestyle="--", linewidth=1,
                       label="gate" if ax is left else None)  # fmt: skip
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.16), ncol=2, frameon=False, fontsize=8)
    low = min(100 * c["risk_upper"] for c in candidates)
    left.set_ylim(max(min(low, 100 * (limit or 1)) / 1.5, 0.01), 100)
    return _uri(fig)


def _knobs_text(knobs: dict[str, Any]) -> str:
    return ", ".join(f"{k.split('.')[-1]}={'none' if v is None else v}" for k, v in knobs.items())


def _pct(value: float | None) -> str:
    return pct(value, missing="")  # an empty cell, not "n/a", in the frontier's tables


def _num(value: float | None) -> str:
    return number(value, missing="")


def render_frontier_html(frontier: dict[str, Any]) -> str:
    """frontier.html: one self-contained page (the plot is an SVG data URI)."""
    return render_page(
        "frontier.html.j2",
        f=frontier,
        s=frontier["search"],
        plot=frontier_plot(frontier),
        pct=_pct,
        num=_num,
        knobs=_knobs_text,
    )


def terminal_table(frontier: dict[str, Any], rows: int = 12) -> str:
    """The frontier's candidates, the presets and the recommendation, as plain text."""
    rec = frontier["recommended"]
    front = sorted(
        (c for c in frontier["candidates"] if c["on_frontier"]),
        key=lambda c: c["utility_lost"],
    )
    entries = [
        (
            "*" if rec and c["number"] == rec["candidate"] else "",
            f"#{c['number']} {_knobs_text(c['knobs'])}",
            c["status"],
            c,
        )
        for c in front[:rows]
    ]
    entries += [
        ("", f"preset {name}", figures.get("verdict") or "error", figures)
        for name, figures in frontier["presets"].items()
    ]
    width = max([len("candidate"), *(len(label) for _, label, _, _ in entries)])
    lost = f"lost ({frontier['objective']['name']})"
    lines = [f"{'':2}{'candidate':{width}}  {'status':8}  {'risk upper':>10}  {lost}  {'kept':>6}"]
    for mark, label, status, figures in entries:
        kept = (figures.get("utility") or {}).get("ratings_kept")
        lines.append(
            f"{mark:2}{label:{width}}  {status:8}  {_pct(figures.get('risk_upper')):>10}  "
            f"{_num(figures.get('utility_lost')):>{len(lost)}}  {_pct(kept):>6}"
        )
    s = frontier["search"]
    lines.append(
        f"{s['candidates']} candidates: {s['passed']} passed, {s['failed']} failed, "
        f"{s['screened_out']} screened out, {s['pruned']} pruned, {s['not_reached']} not "
        f"reached; {s['seconds']} s{' (budget spent)' if s['budget_exhausted'] else ''}"
        f"{' (interrupted)' if s.get('interrupted') else ''}"
    )
    advice = frontier.get("no_recommendation")
    if rec is None and advice and advice.get("least_risky"):
        least = advice["least_risky"]
        lines.append(
            f"  least risky #{least['candidate']} {_knobs_text(least['knobs'])}: risk upper "
            f"{_pct(least['risk_upper'])}, kept "
            f"{_pct((least.get('utility') or {}).get('ratings_kept'))}"
        )
        lines.extend(f"  next: {line}" for line in advice["next"])
    if rec is not None:
        lines.append(
            f"* recommended #{rec['candidate']}: {rec['reaudit']['draws']} fresh re-audits all "
            f"passed, worst risk upper {_pct(rec['reaudit']['risk_upper'])}, lost "
            f"{_num(rec['reaudit']['utility_lost'])}; a fresh release passes with probability "
            f"{rec['reaudit']['pass_probability']:.2f}"
        )
    return "\n".join(lines)
