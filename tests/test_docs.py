"""Every command has help text and is documented; every Python example in the docs runs.

The README is the quickstart; the reference is ``docs/`` (one page per topic).
"""

import re

import pytest
from click.testing import CliRunner

from publisher.cli import main

from tests.conftest import REPO


def commands(group, prefix=""):
    for name, command in group.commands.items():
        yield f"{prefix}{name}", command
        if hasattr(command, "commands"):
            yield from commands(command, f"{prefix}{name} ")


def test_every_command_has_help_with_an_example():
    for name, command in commands(main):
        result = CliRunner().invoke(main, [*name.split(), "--help"])
        assert result.exit_code == 0, name
        assert command.help, name
        assert "Example:" in command.help, name


def test_every_command_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for name, _ in commands(main):
        if name != "policy":
            assert f"publisher {name}" in readme or re.search(rf"`{name.split()[-1]}", readme), name


def test_readme_starts_with_demo_and_test_commands():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.S)
    assert "publisher demo" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (REPO / ".ci" / "run").read_text()
    assert blocks[1] in ci


DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [REPO / "README.md", *DOCS]


def test_the_readme_is_a_quickstart_and_the_reference_is_in_docs():
    readme = (REPO / "README.md").read_text()
    assert len(readme.encode()) <= 12 * 1024
    assert "## Contents" in readme
    names = {page.name for page in DOCS}
    assert {"policy.md", "steps.md", "audits.md", "gate.md", "bundle.md", "verify.md",
            "errors.md", "performance.md", "testing.md"} <= names  # fmt: skip
    for page in DOCS:  # every page is reachable from the README
        assert f"(docs/{page.name}" in readme, page.name


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}"
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.M)
            assert anchor in {_anchor(h) for h in headings}, f"{page.name}: {target}"


def test_every_input_limit_is_documented():
    import dataclasses

    from publisher.readers.limits import DEFAULT_LIMITS

    readme = (REPO / "docs" / "errors.md").read_text()
    for limit in dataclasses.fields(DEFAULT_LIMITS):
        row = re.search(rf"^\| `{limit.name}` \| ([^|]+) \|", readme, flags=re.M)
        assert row, limit.name
        default = getattr(DEFAULT_LIMITS, limit.name)
        shown = (f"{default:,}", f"{default >> 20} MiB", f"{default >> 30} GiB")
        assert row.group(1).strip() in shown, limit.name


def test_every_python_example_runs_and_prints_what_it_says(capsys):
    """Each ``python`` block of the README and docs/ runs; ``# label: text`` lines give
    what it prints, in order."""
    ran = 0
    for page in PAGES:
        for block in re.findall(r"```python\n(.*?)\n```", page.read_text(), flags=re.S):
            exec(compile(block, page.name, "exec"), {})
            printed = capsys.readouterr().out.strip()
            expected = re.findall(r"^# (.*)$", block, flags=re.M)
            wanted = [e.split(": ", 1)[1] for e in expected if ": " in e]
            assert printed.splitlines() == wanted, page.name
            ran += 1
    assert ran >= 3
