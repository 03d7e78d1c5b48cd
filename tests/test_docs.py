"""Every command has help text and is documented in the README."""

import re

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


def test_every_input_limit_is_documented():
    import dataclasses

    from publisher.readers.limits import DEFAULT_LIMITS

    readme = (REPO / "README.md").read_text()
    for limit in dataclasses.fields(DEFAULT_LIMITS):
        row = re.search(rf"^\| `{limit.name}` \| ([^|]+) \|", readme, flags=re.M)
        assert row, limit.name
        default = getattr(DEFAULT_LIMITS, limit.name)
        shown = (f"{default:,}", f"{default >> 20} MiB", f"{default >> 30} GiB")
        assert row.group(1).strip() in shown, limit.name


def test_readme_python_examples_run(capsys):
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)\n```", readme, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
        printed = capsys.readouterr().out.strip()
        expected = re.findall(r"^# (.*)$", block, flags=re.M)
        assert printed.splitlines() == [e.split(": ", 1)[1] for e in expected if ": " in e]
