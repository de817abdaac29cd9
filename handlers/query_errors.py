"""A query the parser could not read, told to the person who typed it: what is wrong, the query again
with a marker under the spot, and one query that works."""

from __future__ import annotations

import unicodedata

from bot.core.errors import QueryError

_BLANKS = str.maketrans("\t\r\n\v\f", "     ")
WINDOW = 60
"""The longest stretch of a query shown above the marker; a longer query is cut around the spot."""


def query_problem(text: str, error: QueryError, command: str) -> str:
    """The reply to ``command`` (``/news subscribe``) typed with the query ``text`` that raised ``error``."""
    lines = [f"I couldn't read that query: {error.reason}."]
    if error.column is not None and "```" not in text:
        shown, marker = marked(text, error.column)
        lines.append(f"```\n{shown}\n{marker}\n```")
    if error.example:
        lines.append(f"This one works: `{command} {error.example}`")
    return "\n".join(lines)


def marked(text: str, column: int) -> tuple[str, str]:
    """``text`` (cut to :data:`WINDOW` characters around ``column`` if longer) and a line with a ``^``
    under the 1-based ``column``, counting wide characters (CJK) as two places and combining marks as
    none, as a monospaced font shows them."""
    text = text.translate(_BLANKS)
    spot = min(max(column, 1), len(text) + 1) - 1
    start = 0
    if len(text) > WINDOW:
        start = min(max(spot - WINDOW // 2, 0), len(text) - WINDOW)
        text = (
            ("…" if start else "")
            + text[start : start + WINDOW]
            + ("…" if start + WINDOW < len(text) else "")
        )
        spot = spot - start + (1 if start else 0)
    return text, " " * _width(text[:spot]) + "^"


def _width(text: str) -> int:
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )
