"""Hand-built linkage results for the gate's, the report's and the simulation's tests."""

from __future__ import annotations

from audits.linkage import Attack, KnowledgeStats, LinkageResult


def linkage_result(adversary, released, original, control=None, baseline=0.001, attacks=()):
    """One adversary: Scoreboard-RH with original knowledge, plus any ``attacks`` given.

    ``attacks`` lists (knowledge, scorer, released, original, simulated) tuples.
    """
    built = [Attack("original", "scoreboard-rh", released, original, None, control)]
    for knowledge, scorer, rel, orig, sim in attacks:
        if (knowledge, scorer) == ("original", "scoreboard-rh"):
            built[0] = Attack(knowledge, scorer, rel, orig, sim, control)
        else:
            built.append(Attack(knowledge, scorer, rel, orig, sim))
    models = dict.fromkeys(a.knowledge for a in built)
    stats = [KnowledgeStats(m, released.n, released.n, 2.0, 0) for m in models]
    return LinkageResult(adversary, built, stats, baseline)
