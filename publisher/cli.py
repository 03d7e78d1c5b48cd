"""The ``publisher`` command line: parse, call one library function, render.

Library errors (:class:`~publisher.core.errors.PublisherError`) reach the user as one
``Error: ...`` line with the exit code the error names: 1 invalid input or policy,
3 release rejected by the gate, 4 bundle verification failed. Click's own usage
errors exit with 2. Progress goes to stderr (``--quiet`` silences it), results to
stdout.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from policies import list_presets, load_policy, preset_text
from publisher import __version__
from publisher.core.errors import InternalError, PublisherError
from publisher.core.ratings import Scale
from publisher.demo import run_demo
from publisher.engine import ReleaseResult, evaluate, read_report, release, rerender
from publisher.engine.bundle import printable, write_json
from publisher.engine.keys import load_key
from publisher.engine.output import check_file_output
from publisher.engine.verify import verify_bundle
from publisher.progress import Stages
from publisher.readers import FORMATS, parse_columns
from publisher.readers.limits import ReadLimits, parse_limits
from publisher.reporting.terminal import (
    headline,
    render_audit_table,
    render_comparison,
    verdict_lines,
)
from publisher.synth import PRESETS, synthesize, write_synthetic

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])
_HANDLER_NAME = "publisher-cli"
_MAX_MESSAGE = 1000


class _Failure(click.ClickException):
    """A library error shown as ``Error: ...`` with the error's own exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        # Readable lines whatever the input held: control characters escaped (a name
        # holding a newline cannot print a line of its own; only our indented detail
        # lines, as in BudgetExceededError, stay on lines of their own), and any echoed
        # input already cut short by the library; this is the last net.
        lines = message.split("\n")
        if all(line.startswith("  ") for line in lines[1:]):
            message = "\n".join(printable(line) for line in lines)
        else:
            message = printable(message)
        if len(message) > _MAX_MESSAGE:
            message = message[:_MAX_MESSAGE] + "..."
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except RecursionError:
        # Inputs are bounded where they are parsed; this is the net under all of them.
        raise _Failure("input nested too deeply to process") from None
    except PublisherError as exc:
        raise _Failure(str(exc), exc.exit_code) from None
    except InternalError as exc:
        raise _Failure(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise _Failure(f"{where}{exc.strerror or exc}") from None


def _configure_logging(ctx: click.Context, param: click.Parameter, quiet: bool) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING if quiet else logging.INFO)


def _quiet(f: F) -> F:
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_configure_logging,
        help="Silence progress and stage lines on stderr.",
    )(f)


def _organizer_key(key_file: Path | None) -> bytes | None:
    """The key from --key-file only: checking a bundle never reads PUBLISHER_KEY."""
    return load_key(key_file, environ={})[0] if key_file else None


def _verbose() -> bool:
    return logging.getLogger().level <= logging.INFO


def _note(message: str) -> None:
    if logging.getLogger().level <= logging.INFO:
        click.echo(message, err=True)


def _parse_scale(ctx: click.Context, param: click.Parameter, value: str | None) -> Scale | None:
    if value is None:
        return None
    try:
        return Scale.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _parse_columns(ctx: click.Context, param: click.Parameter, value: str | None) -> dict | None:
    if value is None:
        return None
    try:
        return parse_columns(value)
    except PublisherError as exc:
        raise click.BadParameter(str(exc)) from None


def _parse_limits(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> ReadLimits:
    try:
        return parse_limits(value)
    except PublisherError as exc:
        raise click.BadParameter(str(exc)) from None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _summary(result: ReleaseResult) -> str:
    o, r = result.original, result.released
    return (
        f"{result.out}: released {r['ratings']:,} of {o['ratings']:,} ratings, "
        f"{r['users']:,} of {o['users']:,} users, {r['items']:,} of {o['items']:,} items"
    )


class _Interrupted(click.ClickException):
    """Ctrl-C: one line, exit 130 (128 + SIGINT) as shells expect."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("Interrupted")

    def show(self, file: Any = None) -> None:
        click.echo("Interrupted", err=True)


def _interrupted(exc: BaseException) -> bool:
    """A Ctrl-C, also when a compiled (numba) function turned it into a SystemError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class _Group(click.Group):
    """The command group: Ctrl-C anywhere ends with ``Interrupted`` and exit 130.

    Every command cleans up on the way out (staging folders, locks), so nothing of an
    interrupted run remains.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, SystemError) as exc:
            if _interrupted(exc):
                raise _Interrupted() from None
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="publisher")
def main() -> None:
    """Publish ratings datasets with a declared privacy policy, attacked and verified.

    Example:

        publisher demo
    """


def _input_options(f: F) -> F:
    """INPUT, --policy and the reader options shared by release and audit."""
    options = [
        click.argument("input", type=click.Path(path_type=Path)),
        click.option("--policy", "-p", required=True, help="Policy file or preset name."),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="auto",
            show_default=True,
            help="Input format.",
        ),
        click.option(
            "--columns",
            callback=_parse_columns,
            help="Column mapping: user=COL,item=COL,rating=COL,date=COL.",
        ),
        click.option(
            "--scale",
            callback=_parse_scale,
            help="Rating scale MIN:MAX:STEP, e.g. 1:5:1.",
        ),
        click.option(
            "--duplicates",
            type=click.Choice(["error", "keep-last"]),
            default="error",
            show_default=True,
            help="What to do with two ratings of one item by one user.",
        ),
        click.option(
            "--limit",
            "limits",
            multiple=True,
            callback=_parse_limits,
            metavar="NAME=N",
            help="Raise an input bound: expansion, line_bytes, columns, row_groups, "
            "footer_bytes (see README, Errors).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@main.command("release")
@_input_options
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Bundle folder.")
@click.option("--key-file", type=click.Path(path_type=Path), help="Pseudonymization key file.")
@click.option("--seed", type=int, help="Fix all randomness (tests and reproducible audits).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out folder.")
@click.option("--csv", "write_csv", is_flag=True, help="Also write data/ratings.csv.")
@_quiet
def release_command(
    input: Path,
    policy: str,
    out: Path,
    fmt: str,
    columns: dict | None,
    scale: Scale | None,
    duplicates: str,
    limits: ReadLimits,
    key_file: Path | None,
    seed: int | None,
    overwrite: bool,
    write_csv: bool,
) -> None:
    """Apply POLICY to INPUT and write a verifiable bundle to --out.

    The key comes from --key-file or the PUBLISHER_KEY environment variable;
    without one, a fresh random key is used and discarded.

    Example:

        publisher release ratings.csv --policy balanced --out release-2026
    """
    with _errors():
        key, source = load_key(key_file)
        if key is None:
            _note(
                "No pseudonymization key given (--key-file or PUBLISHER_KEY): using a fresh "
                "random key and discarding it; these pseudonyms cannot be reproduced."
            )
        stages = Stages(visible=_verbose())
        result = release(
            input,
            policy,
            out,
            format=fmt,
            columns=columns,
            scale=scale,
            duplicates=duplicates,
            limits=limits,
            key=key,
            key_source=source,
            seed=seed,
            overwrite=overwrite,
            write_csv=write_csv,
            stages=stages,
        )
    _note(stages.summary())
    click.echo(_summary(result))
    click.echo(render_audit_table(result.report))


@main.command("audit")
@_input_options
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path),
    help="Write the report.json fields to this file.",
)
@click.option("--seed", type=int, help="Fix all randomness (reproducible audits).")
@_quiet
def audit_command(
    input: Path,
    policy: str,
    fmt: str,
    columns: dict | None,
    scale: Scale | None,
    duplicates: str,
    limits: ReadLimits,
    json_path: Path | None,
    seed: int | None,
) -> None:
    """Apply POLICY to INPUT in memory and attack the result; writes no bundle.

    The policy may lack pseudonymize_users (e.g. the preset 'none', to measure the
    raw data): nothing leaves the process except the figures.

    Example:

        publisher audit ratings.csv --policy none --json raw-risk.json
    """
    with _errors():
        if json_path is not None:
            check_file_output(json_path, report=True)  # before the work, not after it
        stages = Stages(visible=_verbose())
        evaluation = evaluate(
            input,
            policy,
            format=fmt,
            columns=columns,
            scale=scale,
            duplicates=duplicates,
            limits=limits,
            seed=seed,
            stages=stages,
        )
        if json_path is not None:
            write_json(json_path, evaluation.report)
    _note(stages.summary())
    click.echo(render_audit_table(evaluation.report))
    # The dry run's decision, as a release would take it (exit code stays 0: nothing is
    # published either way).
    click.echo("\n".join(verdict_lines(evaluation.report)))


@main.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="The organizer's key: also prove the bundle's origin.",
)
@_quiet
def verify_command(bundle: Path, key_file: Path | None) -> None:
    """Re-hash every file of BUNDLE against its MANIFEST.json (exit 4 on any mismatch).

    Example:

        publisher verify release-2026 --key-file organizer.key
    """
    with _errors():
        key = _organizer_key(key_file)
        result = verify_bundle(bundle, key=key)
        report, problems = read_report(bundle) if result.ok else (None, [])
    shown = printable(str(bundle))
    for problem in result.problems + problems:
        click.echo(problem)
    if not result.files_checked:
        click.echo("files not read: the manifest's origin did not verify")
    if result.problems or problems:
        count = _plural(len(result.problems) + len(problems), "problem")
        raise _Failure(f"{shown}: verification failed ({count})", 4)
    origin = (
        "origin verified with the organizer's key"
        if result.origin == "verified"
        else "integrity only: origin not checked (pass --key-file to prove it)"
    )
    click.echo(f"OK: {shown}: {result.files} files match MANIFEST.json; {origin}")
    if report is not None:
        click.echo(headline(report))


@main.command("report")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--key-file",
    type=click.Path(path_type=Path),
    help="The organizer's key, to re-sign a signed manifest.",
)
@_quiet
def report_command(bundle: Path, key_file: Path | None) -> None:
    """Re-render BUNDLE's report.md and report.html from its report.json.

    The bundle must verify first; the manifest is rebuilt when a file changes.

    Example:

        publisher report release-2026
    """
    with _errors():
        key = _organizer_key(key_file)
        changed = rerender(bundle, key=key)
    what = ", ".join(changed) if changed else "nothing changed"
    click.echo(f"{bundle}: re-rendered report.md and report.html ({what})")
    click.echo(f"  {bundle / 'report.html'}")


@main.command("demo")
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    default=Path("publisher-demo"),
    show_default=True,
    help="Folder for the demo bundles.",
)
@click.option("--seed", type=int, help="Fix all randomness.")
@_quiet
def demo_command(out: Path, seed: int | None) -> None:
    """Release the embedded MovieLens latest-small data (no arguments needed).

    Example:

        publisher demo --out /tmp/demo
    """
    with _errors():
        runs = run_demo(out, seed=seed)
    click.echo(
        "MovieLens latest-small: 100,836 ratings by 610 users (GroupLens; shipped with its "
        "README.txt licence)"
    )
    click.echo(render_comparison([(run.policy, run.report) for run in runs]))
    for run in runs:
        if run.result is not None:
            click.echo(f"{run.policy}: published. {_summary(run.result)}")
        else:
            click.echo(f"{run.policy}: REJECTED by its gate; no data published, report only.")
        click.echo(f"  report: {run.html}")


@main.command("synth")
@click.option(
    "--preset",
    type=click.Choice(sorted(PRESETS)),
    required=True,
    help="Whose marginals to reproduce.",
)
@click.option(
    "--scale",
    type=click.FloatRange(0, 10, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiplies the numbers of customers and items.",
)
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Output file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "netflix"]),
    default="parquet",
    show_default=True,
    help="Parquet, or the Netflix Prize text format.",
)
@click.option("--seed", type=int, help="Fix the randomness.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out file.")
@_quiet
def synth_command(
    preset: str, scale: float, out: Path, fmt: str, seed: int | None, overwrite: bool
) -> None:
    """Generate synthetic ratings with the marginals of Netflix Prize or MovieLens.

    Example:

        publisher synth --preset netflix --scale 0.1 --out netflix-10pct.parquet
    """
    with _errors():
        check_file_output(out, overwrite=overwrite)  # before minutes of generation
        frame = synthesize(preset, scale=scale, seed=seed)
        write_synthetic(frame, out, format=fmt, overwrite=overwrite)
    click.echo(
        f"{out}: {len(frame):,} ratings, {frame['user'].nunique():,} users, "
        f"{frame['item'].nunique():,} items"
    )


@main.group("policy")
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
    with _errors():
        text = preset_text(name) if name in list_presets() else load_policy(name).to_yaml()
    click.echo(text, nl=False)


@policy_group.command("check")
@click.argument("file")
def policy_check(file: str) -> None:
    """Validate a policy file (or preset) and summarize it.

    Example:

        publisher policy check my-policy.yaml
    """
    with _errors():
        policy = load_policy(file)
    steps = ", ".join(s.name for s in policy.steps) or "no steps"
    click.echo(
        f"OK: {file}: policy {policy.name!r}: {steps}; {len(policy.audits.adversaries)} adversaries"
    )
