"""What every command shares: error handling, Ctrl-C, logging, the input options."""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from publisher.console import log_handler
from publisher.core.errors import InternalError, PublisherError
from publisher.core.ratings import Scale
from publisher.engine import ReleaseResult
from publisher.engine.bundle import printable
from publisher.engine.keys import Keys, load_key, organizer_keys
from publisher.readers import DATE_FORMATS, DELIMITERS, FORMATS, ReadOptions, parse_columns
from publisher.readers.limits import ReadLimits, parse_limits
from publisher.reporting.format import count

F = TypeVar("F", bound=Callable[..., Any])


_HANDLER_NAME = "publisher-cli"


_MAX_MESSAGE = 1000


class Failure(click.ClickException):
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
def errors() -> Iterator[None]:
    try:
        yield
    except RecursionError:
        # Inputs are bounded where they are parsed; this is the net under all of them.
        raise Failure("input nested too deeply to process") from None
    except PublisherError as exc:
        raise Failure(str(exc), exc.exit_code) from None
    except InternalError as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise Failure(f"{where}{exc.strerror or exc}") from None


def configure_logging(ctx: click.Context, param: click.Parameter, quiet: bool) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = log_handler(terminal=sys.stderr.isatty())
    handler.set_name(_HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(logging.WARNING if quiet else logging.INFO)


def quiet(f: F) -> F:
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=configure_logging,
        help="Silence progress and stage lines on stderr.",
    )(f)


def organizer_key(key_file: Path | None) -> Keys | None:
    """The key's subkeys from --key-file only: checking a bundle never reads PUBLISHER_KEY."""
    return organizer_keys(load_key(key_file, environ={})[0]) if key_file else None


def verbose() -> bool:
    return logging.getLogger().level <= logging.INFO


def note(message: str) -> None:
    if logging.getLogger().level <= logging.INFO:
        click.echo(message, err=True)


def scale_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Scale | None:
    if value is None:
        return None
    try:
        return Scale.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def columns_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> dict | None:
    if value is None:
        return None
    try:
        return parse_columns(value)
    except PublisherError as exc:
        raise click.BadParameter(str(exc)) from None


def limits_callback(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> ReadLimits:
    try:
        return parse_limits(value)
    except PublisherError as exc:
        raise click.BadParameter(str(exc)) from None


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary(result: ReleaseResult) -> str:
    o, r = result.original, result.released
    return (
        f"{result.out}: released {count(r['ratings'])} of {count(o['ratings'])} ratings, "
        f"{count(r['users'])} of {count(o['users'])} users, "
        f"{count(r['items'])} of {count(o['items'])} items"
    )


class Interrupted(click.ClickException):
    """Ctrl-C: one line, exit 130 (128 + SIGINT) as shells expect."""

    exit_code = 130

    def __init__(self) -> None:
        super().__init__("Interrupted")

    def show(self, file: Any = None) -> None:
        click.echo("Interrupted", err=True)


def interrupted(exc: BaseException) -> bool:
    """A Ctrl-C, also when a compiled (numba) function turned it into a SystemError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


_DELIMITER_NAMES = {"comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|"}


def delimiter_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    delimiter = _DELIMITER_NAMES.get(value.lower(), value.replace("\\t", "\t"))
    if delimiter not in DELIMITERS:
        raise click.BadParameter(f"{value!r}: use comma, tab, semicolon or pipe")
    return delimiter


def input_options(f: F) -> F:
    """INPUT, --policy and the reader options shared by release, audit and tune.

    The command gets the reader options as one ``reading`` argument (ReadOptions).
    """

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["reading"] = ReadOptions(
            format=kwargs.pop("fmt"),
            columns=kwargs.pop("columns"),
            scale=kwargs.pop("scale"),
            duplicates=kwargs.pop("duplicates"),
            limits=kwargs.pop("limits"),
            delimiter=kwargs.pop("delimiter"),
            dates=not kwargs.pop("no_dates"),
            date_format=kwargs.pop("date_format"),
        )
        return f(*args, **kwargs)

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
            callback=columns_callback,
            help="Column mapping: user=COL,item=COL,rating=COL,date=COL.",
        ),
        click.option(
            "--delimiter",
            callback=delimiter_callback,
            help="CSV delimiter: comma, tab, semicolon or pipe (default: sniffed).",
        ),
        click.option(
            "--no-dates",
            is_flag=True,
            help="Read no date column, even where the file has one.",
        ),
        click.option(
            "--date-format",
            type=click.Choice(DATE_FORMATS),
            default="auto",
            show_default=True,
            help="What the date column holds: ISO text, Unix seconds or milliseconds, days "
            "since 1970-01-01, YYYYMMDD integers (auto recognises all but days).",
        ),
        click.option(
            "--scale",
            callback=scale_callback,
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
            callback=limits_callback,
            metavar="NAME=N",
            help="Raise an input bound: expansion, line_bytes, columns, row_groups, "
            "footer_bytes, spool_bytes (see docs/errors.md).",
        ),
    ]
    command: Any = wrapper
    for option in reversed(options):
        command = option(command)
    return command  # type: ignore[no-any-return]
