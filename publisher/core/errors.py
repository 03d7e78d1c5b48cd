"""Exceptions and warnings shared by every layer.

Library code raises these; the CLI turns :class:`PublisherError` into a one-line
``Error: ...`` message with exit code 1 (or the code the subclass names).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuditFailedError",
    "BudgetExceededError",
    "BundleVerificationError",
    "InputError",
    "InternalError",
    "PolicyError",
    "PrivacyLeakWarning",
    "PublisherError",
    "ReleaseRejectedError",
    "show",
]


class PublisherError(Exception):
    """Base class for every error a user can cause and fix."""

    exit_code = 1


class InputError(PublisherError, ValueError):
    """The input ratings file or folder cannot be read as declared."""


class PolicyError(PublisherError, ValueError):
    """The policy is malformed, names an unknown key or holds a bad value."""


class BudgetExceededError(PolicyError):
    """A policy spends more privacy budget than it declares."""


class AuditFailedError(PublisherError):
    """An audit result crossed a threshold of the policy's gate."""

    exit_code = 3


class ReleaseRejectedError(PublisherError):
    """The release gate rejected the release; the report was written, the data was not."""

    exit_code = 3

    def __init__(
        self, message: str, *, report: Any = None, unprotected: Any = None, gate: Any = None
    ) -> None:
        super().__init__(message)
        #: report.json of the rejected release.
        self.report = report
        #: The typed gate decision (:class:`publisher.core.decision.GateDecision`).
        self.gate = gate
        #: The attacks on the unprotected data, to reuse for another policy on this data.
        self.unprotected = unprotected


class BundleVerificationError(PublisherError):
    """A bundle's files do not match its manifest."""

    exit_code = 4


class InternalError(AssertionError):
    """An invariant broke inside the publisher: this is probably a bug, please report it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} (this is probably a bug in publisher; please report it)")


class PrivacyLeakWarning(RuntimeWarning):
    """A setting weakens the privacy protection in a way the user should know about."""


def show(text: str | bytes, limit: int = 40) -> str:
    """A piece of input quoted for an error message, cut to ``limit`` characters.

    Examples
    --------
    >>> show("x" * 50)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"
    >>> show(b"5 stars")
    "'5 stars'"
    """
    if isinstance(text, bytes):
        text = text[: 4 * limit].decode("utf-8", "replace")
    text = text.strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")
