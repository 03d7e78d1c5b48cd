"""``publisher demo``: the whole flow on the embedded MovieLens latest-small data.

MovieLens latest-small (100,836 ratings, 610 users, 9,742 movies; GroupLens) ships
inside the package with its README.txt, whose licence allows redistribution under
the same terms.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from publisher.bundle import MANIFEST
from publisher.errors import PublisherError
from publisher.pipeline import ReleaseResult, release

__all__ = ["DEMO_LICENCE", "DEMO_POLICIES", "demo_data", "run_demo"]

#: Policies the demo releases, each into its own sub-folder.
DEMO_POLICIES = ("balanced",)


#: The licence of the embedded data, as its README.txt states it.
DEMO_LICENCE = (
    "MovieLens latest-small, GroupLens Research (University of Minnesota): research use; "
    "no endorsement implied; cite F. M. Harper and J. A. Konstan, ACM TiiS 5(4):19, 2015; "
    "redistribution (including transformations) only under these same conditions; no "
    "commercial use without permission. Full terms: SOURCE-README.txt in this bundle."
)


def demo_data(name: str = "ratings.csv") -> Path:
    """Path of an embedded MovieLens latest-small file (the package is installed as files)."""
    path = resources.files("publisher") / "data" / "movielens-latest-small" / name
    return Path(str(path))


def _replaceable(path: Path) -> bool:
    """Only an earlier demo bundle may be replaced, never an unrelated folder."""
    if not path.exists():
        return True
    try:
        return "files" in json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def run_demo(out: str | Path = "publisher-demo", *, seed: int | None = None) -> list[ReleaseResult]:
    """Release the embedded data under each demo policy into ``out/<policy>``.

    Parameters
    ----------
    out : path
        Parent folder of the demo bundles.
    seed : int, optional
        Fixes the randomness (tests).

    Returns
    -------
    list of ReleaseResult
        One per policy in :data:`DEMO_POLICIES`.

    Raises
    ------
    PublisherError
        If ``out/<policy>`` exists and is not an earlier demo bundle.
    """
    out = Path(out)
    results = []
    for name in DEMO_POLICIES:
        target = out / name
        if not _replaceable(target):
            raise PublisherError(f"{target}: exists and is not a publisher bundle; choose --out")
        results.append(
            release(
                demo_data(),
                name,
                target,
                seed=seed,
                overwrite=True,
                licence=DEMO_LICENCE,
                attachments={"SOURCE-README.txt": demo_data("README.txt")},
            )
        )
    return results
