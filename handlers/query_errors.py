"""A query the parser could not read, told to the person who typed it: what is wrong, the query again
with the spot marked, and one query that works.

In chat the query is shown in code format with 👉 at the spot (a chat's code span is one line and its
spaces are not kept, so a marker on a line below could not line up); the plain text (the terminal) has
the query on a line of its own with a ``^`` under the spot."""

from __future__ import annotations

import unicodedata

from bot.core.errors import CommandError, QueryError
from handlers.replies import Code, Line, Outside, Piece, Reply, Section

WINDOW = 60
"""The longest stretch of a query shown; a longer query is cut around the spot."""
POINTER = "👉"
_BLANKS = str.maketrans("\t\r\n\v\f", "     ")


class QueryProblem(CommandError):
    """A query the parser refused; ``reply`` says so with the spot marked. Its text is the plain form."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


def query_problem(text: str, error: QueryError, command: str) -> Reply:
    """The reply to ``command`` (``/news subscribe``) typed with the query ``text`` that raised ``error``."""
    reason: Line = tuple(_pieces(error.reason))
    lines: list[Line] = [("I couldn't read that query: ", *reason, ".")]
    plain = [f"I couldn't read that query: {error.reason.replace('`', '')}."]
    if error.column is not None and text.strip():
        shown, spot = window(text, error.column)
        lines.append(("Here: ", Outside(shown[:spot] + POINTER + shown[spot:], code=True)))
        plain += ["  " + shown, "  " + " " * _width(shown[:spot]) + "^"]
    if error.example:
        lines.append(("This one works: ", Code(f"{command} {error.example}")))
        plain.append(f"This one works: {command} {error.example}")
    return Reply("\n".join(plain), True, (Section(lines=tuple(lines)),))


def window(text: str, column: int) -> tuple[str, int]:
    """``text`` on one line, cut to :data:`WINDOW` characters around the 1-based ``column`` if longer
    (an ellipsis where it was cut), and the index of the spot in what is shown."""
    text = text.translate(_BLANKS)
    spot = min(max(column, 1), len(text) + 1) - 1
    if len(text) <= WINDOW:
        return text, spot
    start = min(max(spot - WINDOW // 2, 0), len(text) - WINDOW)
    head = "…" if start else ""
    tail = "…" if start + WINDOW < len(text) else ""
    return head + text[start : start + WINDOW] + tail, spot - start + len(head)


def _pieces(reason: str) -> list[Piece]:
    """The parser's message with its `quoted` pieces of the query as code (they are what was typed)."""
    return [Outside(part, code=True) if i % 2 else part for i, part in enumerate(reason.split("`")) if part]


def _width(text: str) -> int:
    """Places ``text`` takes in a monospaced font: wide characters (CJK) two, combining marks none."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text
    )
