"""Importing a package loads its own needs only (issue 26: ``import policies`` took 1.8 s).

Each import runs in a fresh interpreter; the heavy modules it must not load are listed
per package. Loading a policy, checking it or describing it needs pandas and yaml; the
DP mechanisms (diffprivlib, scikit-learn), the numba kernels, scipy's statistics and the
page renderers (matplotlib, jinja2) load when they are first used.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numba", "diffprivlib", "sklearn", "scipy.stats", "matplotlib", "jinja2")

#: What each import may load of HEAVY: audits runs numba kernels (its own need).
ALLOWED = {
    "policies": (),
    "publisher.core": (),
    "audits": ("numba",),
    "publisher.engine": ("numba",),
    "publisher": (),
}


def loaded_after(module: str) -> list[str]:
    code = (
        f"import sys, json; import {module}; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_an_import_loads_only_its_own_needs(module):
    assert sorted(set(loaded_after(module)) - set(ALLOWED[module])) == []


def test_a_policy_is_loaded_and_checked_without_the_heavy_modules():
    code = (
        "import sys, json; from policies import load_policy; "
        "p = load_policy('balanced'); p.to_dict(); "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
