"""The ``publisher`` command line: the group; each command lives in ``publisher/commands``.

A command parses its options, calls one library function and renders the result.
Library errors (:class:`~publisher.core.errors.PublisherError`) reach the user as one
``Error: ...`` line with the exit code the error names: 1 invalid input or policy, 3
release rejected by the gate, 4 bundle verification failed; click's usage errors exit
with 2; Ctrl-C prints ``Interrupted`` and exits 130. Progress goes to stderr
(``--quiet`` silences it), results to stdout.
"""

from __future__ import annotations

from typing import Any

import click

from publisher import __version__
from publisher.commands._common import Interrupted, interrupted
from publisher.commands.bundle import report_command, verify_command
from publisher.commands.demo import demo_command, synth_command
from publisher.commands.policy import policy_group
from publisher.commands.predict import predict_command
from publisher.commands.release import audit_command, release_command
from publisher.commands.tune import tune_command

__all__ = ["main"]


class _Group(click.Group):
    """The command group: Ctrl-C anywhere ends with ``Interrupted`` and exit 130.

    Every command cleans up on the way out (staging folders, locks), so nothing of an
    interrupted run remains.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, SystemError) as exc:
            if interrupted(exc):
                raise Interrupted() from None
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="publisher")
def main() -> None:
    """Publish ratings datasets with a declared privacy policy, attacked and verified.

    Example:

        publisher demo
    """


for command, name in (
    (release_command, "release"),
    (audit_command, "audit"),
    (verify_command, "verify"),
    (report_command, "report"),
    (demo_command, "demo"),
    (policy_group, "policy"),
    (tune_command, "tune"),
    (synth_command, "synth"),
    (predict_command, "predict"),
):
    main.add_command(command, name)
