"""One home per vocabulary: the confidence level, the scorer and knowledge names.

A word or number the reports state lives in one module; the others import it. These
tests fail when a copy reappears.
"""

import json
import re
from pathlib import Path

from audits.portfolio import SCORERS
from publisher.core.adversary import CONFIDENCE, CONFIDENCE_LEVEL, KNOWLEDGE_MODELS
from publisher.reporting.format import KNOWLEDGE_NAMES, SCORER_NAMES

REPO = Path(__file__).resolve().parents[1]
SOURCES = [
    p
    for package in ("publisher", "audits", "policies")
    for p in (REPO / package).rglob("*")
    if p.suffix in (".py", ".j2")
]


def _code_lines(path):
    """The lines of a source that are neither comments nor docstrings."""
    text = path.read_text()
    if path.suffix == ".py":
        text = re.sub(r'"""(.*?)"""', "", text, flags=re.S)
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def test_the_confidence_level_is_stated_from_one_constant():
    assert CONFIDENCE == f"{CONFIDENCE_LEVEL:.0%}"
    copies = [
        f"{path.relative_to(REPO)}: {line.strip()}"
        for path in SOURCES
        if path.name != "adversary.py"
        for line in _code_lines(path)
        if re.search(r"95%|\b0\.95\b|\b0\.975\b|\b0\.025\b", line.split("#")[0])
    ]
    assert copies == []


def test_every_scorer_and_knowledge_model_has_its_words_and_its_schema_entry():
    assert set(SCORER_NAMES) == set(SCORERS)
    assert set(KNOWLEDGE_NAMES) == set(KNOWLEDGE_MODELS)
    schema = (REPO / "publisher/reporting/schemas/report.schema.json").read_text()
    enums = [e for e in re.findall(r'"enum":\s*(\[[^\]]*\])', schema) if "scoreboard-rh" in e]
    assert enums
    assert all(set(json.loads(e)) == set(SCORERS) for e in enums)
