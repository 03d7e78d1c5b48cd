"""``publisher policy list | show | check``: the presets and policy files."""

from __future__ import annotations

import click

from policies import list_presets, load_policy, preset_text
from publisher.commands._common import errors
from publisher.engine.release import check_releasable


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
@click.option(
    "--for",
    "use",
    type=click.Choice(["release", "audit"]),
    default="release",
    show_default=True,
    help="What the policy is for: release also refuses what only an audit may run.",
)
def policy_check(file: str, use: str) -> None:
    """Validate a policy file (or preset) and summarize it.

    Everything release would refuse about the policy itself is refused here too (a
    policy without pseudonyms, unless --for audit).

    Example:

        publisher policy check my-policy.yaml
    """
    with errors():
        policy = load_policy(file)
        if use == "release":
            check_releasable(policy, hint="; check it --for audit to use it with publisher audit")
    steps = ", ".join(s.name for s in policy.steps) or "no steps"
    gate = "gate: none (published without a threshold)" if policy.gate.none else "gated"
    click.echo(
        f"OK: {file}: policy {policy.name!r}: {steps}; {len(policy.audits.adversaries)} "
        f"adversaries; {gate}"
    )
