"""The HTML pages the tool writes, rendered from one skeleton (``templates/page.html.j2``).

report.html and frontier.html share it: one self-contained file with a strict
Content-Security-Policy (no script, nothing fetched: ``default-src 'none'``, images only
as data URIs, inline styles), autoescaped, with undefined names an error.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import jinja2

from publisher.core.adversary import CONFIDENCE
from publisher.reporting.format import attacker, count, number, pct, risk

__all__ = ["render_page"]


@functools.cache
def _environment() -> jinja2.Environment:
    loader = jinja2.FunctionLoader(
        lambda name: (resources.files("publisher.reporting") / "templates" / name).read_text(
            "utf-8"
        )
    )
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["pct"] = pct
    env.filters["risk"] = risk
    env.filters["attacker"] = attacker
    env.filters["num"] = number
    env.filters["thousands"] = count
    env.globals["confidence"] = CONFIDENCE  # every "95%" a page states
    return env


def render_page(template: str, **context: Any) -> str:
    """Render ``templates/TEMPLATE`` (which extends the skeleton) with ``context``."""
    return _environment().get_template(template).render(**context)
