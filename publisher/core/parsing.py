"""Strict parsing of the YAML and JSON the tool reads: what a reviewer reads is what runs.

``yaml.safe_load`` and ``json.loads`` both keep the LAST of two equal keys. A reviewer
reading a policy top-down sees the first ``steps:`` and ``gate:``; a second, permissive
``gate:`` further down would be what the tool applies. A JSON reader that keeps the FIRST
member (many do) and this tool would read two different manifests from the same bytes.
So a repeated key is an error here, at every level, and so are YAML aliases (no "billion
laughs" expansion) and JSON's non-standard ``NaN`` and ``Infinity``.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from publisher.core.errors import PublisherError, show

__all__ = ["DuplicateKeyError", "canonical_json", "json_text", "strict_json", "strict_yaml"]


def canonical_json(data: Any) -> bytes:
    """The bytes a digest or a signature is taken over: sorted keys, no spaces, UTF-8.

    The policy digest, the manifest signature and the ledger's tags use this one form,
    so a document signs and digests the same wherever it is checked.
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


class DuplicateKeyError(ValueError):
    """A mapping names the same key twice."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: SafeLoader's own error says so
                break
            if repeated:
                line = key_node.start_mark.line + 1
                raise DuplicateKeyError(f"line {line}: key {show(str(key))} given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def strict_yaml(text: str, label: str, error: type[PublisherError], what: str = "a policy") -> Any:
    r"""Parse one YAML document with safe types only, no aliases and no repeated keys.

    Parameters
    ----------
    text : str
    label : str
        Prefix of every error message (the file or preset name).
    error : type of PublisherError
        What to raise (a policy raises PolicyError).
    what : str
        What the document is, for messages (``a policy``, ``a space``).

    Raises
    ------
    PublisherError
        Of type ``error``: ``label: line N: problem``.

    Examples
    --------
    >>> from publisher.core.errors import PolicyError
    >>> strict_yaml("a: 1\nb: 2\na: 3\n", "p.yaml", PolicyError)
    Traceback (most recent call last):
    ...
    publisher.core.errors.PolicyError: p.yaml: line 3: key 'a' given twice
    """
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise error(f"{label}: line {line}: YAML aliases are not allowed in {what}")
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except DuplicateKeyError as exc:
        raise error(f"{label}: {exc}") from None
    except RecursionError:
        raise error(f"{label}: nested too deeply to be {what}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{label}: {where}invalid YAML ({problem})") from None


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKeyError(f"member {show(key)} given twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(data: bytes | str) -> Any:
    """Parse JSON refusing repeated members (at any depth), ``NaN`` and ``Infinity``.

    Raises
    ------
    ValueError
        :class:`DuplicateKeyError` for a repeated member, ValueError for invalid JSON;
        RecursionError for a document nested too deeply.

    Examples
    --------
    >>> strict_json('{"a": 1, "b": {"c": 2}}')
    {'a': 1, 'b': {'c': 2}}
    >>> strict_json('{"files": {}, "files": {"x": 1}}')
    Traceback (most recent call last):
    ...
    publisher.core.parsing.DuplicateKeyError: member 'files' given twice in one object
    """
    return json.loads(data, object_pairs_hook=_pairs, parse_constant=_no_constant)


def json_text(data: Any) -> str:
    """The one way this tool writes JSON: 2-space indent, no NaN or infinity, a final newline.

    Every JSON file (report.json, MANIFEST.json, frontier.json, the ledger, the staging
    journal, a model's MODEL.json) and ``--json -`` go through it, so they read alike and
    none can carry a NaN.
    """
    return json.dumps(data, indent=2, allow_nan=False) + "\n"
