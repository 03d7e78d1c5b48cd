"""``publisher demo``: the whole flow on the embedded MovieLens latest-small data.

MovieLens latest-small (100,836 ratings, 610 users, 9,742 movies; GroupLens) ships
inside the package with its README.txt, whose licence allows redistribution under
the same terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from publisher.core.errors import ReleaseRejectedError
from publisher.engine import ReleaseResult, release
from publisher.engine.keys import Keys
from publisher.engine.output import check_output, rejected_path, remove_owned, review_path

__all__ = ["DEMO_LICENCE", "DEMO_POLICIES", "DemoRun", "demo_data", "run_demo"]

#: Policies the demo releases, each into its own sub-folder: what Netflix did, then
#: two of ours. On this small, dense dataset none passes its gate against an attacker
#: who knows ratings of films the release lists (``strict``: 8 exact ratings re-identify
#: about a third of its customers); the demo says so and points to ``publisher tune``.
DEMO_POLICIES = ("netflix-2006", "balanced", "strict")


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


@dataclass
class DemoRun:
    """One policy of the demo: where its bundle (or rejected report) is and what it says."""

    policy: str
    folder: Path
    report: dict[str, Any]
    result: ReleaseResult | None  # None when the gate rejected the release

    @property
    def html(self) -> Path:
        """The full HTML report: the review copy's, or the rejected report."""
        if self.result is not None:
            return self.result.review / "report.html"
        return self.folder / "report.html"


def run_demo(
    out: str | Path = "publisher-demo", *, seed: int | None = None, key: Keys | None = None
) -> list[DemoRun]:
    """Release the embedded data under each demo policy into ``out/<policy>``.

    Parameters
    ----------
    out : path
        Parent folder of the demo bundles.
    seed : int, optional
        Makes the demo reproducible; needs ``key`` (the demo policies draw noise, and
        a seed alone would let anyone replay it).
    key : bytes, optional
        The organizer's key; without it each release uses a fresh key, discarded.

    A policy whose release the gate rejects leaves its report in
    ``out/<policy>.rejected`` (and no data); that is part of the story, not an error.

    Returns
    -------
    list of DemoRun
        One per policy in :data:`DEMO_POLICIES`.

    Raises
    ------
    PublisherError
        If ``out/<policy>`` (or its ``.rejected`` twin) exists and is not a bundle this
        tool wrote, or ``out`` is a folder the tool must not write into.
    """
    out = Path(out)
    runs = []
    targets = [out / name for name in DEMO_POLICIES]
    # Every folder the demo may replace is checked before the first release starts.
    for target in targets:
        for folder in (target, review_path(target), rejected_path(target)):
            check_output(folder, inputs=[demo_data()], overwrite=True)
    unprotected = None  # drawn by the first release, shared by the others
    for name, target in zip(DEMO_POLICIES, targets, strict=True):
        # Clear the other outcome of an earlier run so the folder shows only this one.
        remove_owned(rejected_path(target))
        try:
            result = release(
                demo_data(),
                name,
                target,
                key=key,
                seed=seed,
                overwrite=True,
                licence=DEMO_LICENCE,
                attachments={"SOURCE-README.txt": demo_data("README.txt")},
                unprotected=unprotected,
            )
        except ReleaseRejectedError as rejection:
            unprotected = unprotected or rejection.unprotected
            remove_owned(target)
            remove_owned(review_path(target))
            folder = rejected_path(target)
            report = rejection.report
            runs.append(DemoRun(name, folder, report, None))
            continue
        unprotected = unprotected or result.unprotected
        runs.append(DemoRun(name, target, result.report, result))
    return runs
