"""Markdown escaping for every user-supplied string a report or datasheet shows.

A policy's name, description and licence and the input's file name come from whoever
wrote them. Copied raw into ``report.md`` or ``DATASHEET.md`` they could run HTML, load
remote images or restructure the page when a CommonMark renderer shows it. Every such
string goes through :func:`escape` and is never put inside a code span, where
backslash escapes do not work.
"""

from __future__ import annotations

import re

__all__ = ["code", "escape"]

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the characters
# that can open or close markup (emphasis, code, links, images, HTML, entities, tables,
# headings, lists, block quotes, setext underlines, strikethrough).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&=:\"'])")


def escape(text: str) -> str:
    r"""``text`` as literal Markdown on one line: markup escaped, line breaks as spaces.

    Examples
    --------
    >>> print(escape("<img src=x onerror=alert(1)>"))
    \<img src\=x onerror\=alert\(1\)\>
    >>> print(escape("a `b`\n# c"))
    a \`b\` \# c
    """
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def code(text: str) -> str:
    r"""``text`` as a code span when that is safe (no backtick, one line), else escaped.

    Examples
    --------
    >>> print(code("data/ratings.parquet"), code("a`b"))
    `data/ratings.parquet` a\`b
    """
    text = str(text)
    if "`" in text or not text.isprintable() or not text.strip():
        return escape(text)
    return f"`{text}`"
