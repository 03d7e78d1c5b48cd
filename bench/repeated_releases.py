"""Three releases of one population under one key: what joining them by pseudonym gives.

Issue 24.16. Each release perturbs every rating with randomized response (epsilon 2).
Joined customer by customer on their pseudonyms, the releases vote: where 2 of 3 agree,
how often is the agreed rating the true one, against how often one release's rating is?
With per-release pseudonyms (the default) there is nothing to join; with
``linkable: true`` (stable pseudonyms, on purpose, with a ledger) the vote works, which
is why linkable releases compose their epsilons in the ledger.

    python bench/repeated_releases.py [INPUT]     # default: the embedded demo data
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from policies import parse_policy
from policies.steps import PseudonymizeUsers
from publisher.demo import demo_data
from publisher.engine.keys import pseudonym_key
from publisher.engine.release import release
from publisher.readers import read_ratings

POLICY = """name: rr
steps: [{pseudonymize_users: PSEUDONYMS}, {perturb_ratings: {epsilon: 2}}]
audits: {targets: 50}
gate: none
"""
KEY = b"bench-repeated-releases-key-0123"


def main(source: Path) -> None:
    original = read_ratings(source)
    truth = pd.DataFrame(
        {
            "raw": original.user_ids[original.frame["user"].to_numpy()].astype(str),
            "item": original.item_ids[original.frame["item"].to_numpy()],
            "true": original.frame["rating"].to_numpy(),
        }
    )
    for label, pseudonyms in (
        ("per-release pseudonyms (default)", "{}"),
        ("linkable pseudonyms", "{linkable: true, total_epsilon: 100}"),
    ):
        policy = parse_policy(POLICY.replace("PSEUDONYMS", pseudonyms))
        with tempfile.TemporaryDirectory() as folder:
            tables = []
            for k in range(3):
                out = Path(folder) / f"r{k}"
                ledger = Path(folder) / "ledger.json" if "linkable" in pseudonyms else None
                release(source, policy, out, key=KEY, ledger=ledger)
                frame = pd.read_parquet(out / "data" / "ratings.parquet")
                frame["user"] = frame["user"].astype(str)
                tables.append(frame.rename(columns={"rating": f"r{k}"})[["user", "item", f"r{k}"]])
            joined = (
                tables[0]
                .merge(tables[1], on=["user", "item"])
                .merge(tables[2], on=["user", "item"])
            )
            linked = joined["user"].nunique()
            print(f"{label}: {linked} customers carry one pseudonym in all three releases")
            if not linked:
                continue
            # the auditor holds the key: it maps each stable pseudonym back to its customer
            step = PseudonymizeUsers(key=pseudonym_key(KEY, "0" * 32, linkable=True))
            mapped = step.transform(original, np.random.default_rng(0))
            names = dict(
                zip(mapped.user_ids.astype(str), original.user_ids.astype(str), strict=True)
            )
            joined["raw"] = joined["user"].map(names)
            joined = joined.merge(truth, on=["raw", "item"])
            votes = joined[["r0", "r1", "r2"]].to_numpy()
            agree = (
                (votes[:, 0] == votes[:, 1])
                | (votes[:, 0] == votes[:, 2])
                | (votes[:, 1] == votes[:, 2])
            )
            majority = np.where(votes[:, 0] == votes[:, 1], votes[:, 0], votes[:, 2])
            majority = np.where(votes[:, 1] == votes[:, 2], votes[:, 1], majority)
            right = (majority == joined["true"].to_numpy())[agree].mean()
            single = (votes[:, 0] == joined["true"].to_numpy()).mean()
            print(
                f"  2 of 3 agree on {agree.mean():.1%} of ratings; the agreed rating is the true "
                f"one {right:.1%} of the time, one release's rating {single:.1%}"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else demo_data())
