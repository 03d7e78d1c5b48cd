"""``publisher policy list | show | check``: the presets and policy files."""

from __future__ import annotations

import click

from policies import list_presets, load_policy, preset_text
from publisher.commands._common import errors


@click.group("policy")
def policy_group() -> None:
    """List, show and check release policies.

    Example:

        publisher policy list
    """


@policy_group.command("list")
def policy_list() -> None:
    """List the built-in policy presets.

    Example:

        publisher policy list
    """
    for name in list_presets():
        description = " ".join(load_policy(name).description.split())
        click.echo(f"{name:14} {description[:90]}{'...' if len(description) > 90 else ''}")


@policy_group.command("show")
@click.argument("name")
def policy_show(name: str) -> None:
    """Print a preset (or a policy file) as YAML.

    Example:

        publisher policy show balanced
    """
    with errors():
        text = preset_text(name) if name in list_presets() else load_policy(name).to_yaml()
    click.echo(text, nl=False)


@policy_group.command("check")
@click.argument("file")
def policy_check(file: str) -> None:
    """Validate a policy file (or preset) and summarize it.

    Example:

        publisher policy check my-policy.yaml
    """
    with errors():
        policy = load_policy(file)
    steps = ", ".join(s.name for s in policy.steps) or "no steps"
    click.echo(
        f"OK: {file}: policy {policy.name!r}: {steps}; {len(policy.audits.adversaries)} adversaries"
    )
