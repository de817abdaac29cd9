"""What a /news command answers, as structure, so that each platform says it in its own words (Slack
Block Kit, a Discord embed, the terminal's plain lines) and escapes in its own way whatever text came
from outside the bot.

A :class:`Reply` is made of :class:`Section` s: a heading (the bot's words), lines, a list of items
(numbered or bulleted, each with an optional :class:`Button`) and lines after the list. A line is a
tuple of pieces:

- ``str``: the bot's own words;
- :class:`Outside`: text from outside the bot (a feed's or an article's title, a link, an error a
  platform gave, a query or anything else a user typed), shown on one line and cut to a length;
- :class:`Code`: a command to type, in code format;
- :class:`Link`: a label that leads to a web address.

Every renderer escapes every piece, the bot's own words included: no text of a reply can become a
mention, markup, a link or a terminal control sequence. Formatting comes from the structure alone.

``Reply(text)`` is a reply of plain text only, escaped in full by every platform: what the bot says
when it has nothing to lay out, and every error (an error may repeat what the user typed).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from handlers.text import single_line, truncate

OUTSIDE_LIMIT = 600
"""The most characters of one piece of outside text a reply shows (a query is at most 500)."""

Action = Literal["unsubscribe", "feeds-remove"]
ACTIONS: tuple[Action, ...] = ("unsubscribe", "feeds-remove")
BUTTON_ID = re.compile(rf"news:(?P<action>{'|'.join(ACTIONS)}):(?P<key>[0-9A-Za-z_-]{{1,64}})")
"""A button's id on every platform, as :attr:`Button.custom_id` makes it: ``news:<action>:<key>``."""


@dataclass(frozen=True, slots=True)
class Outside:
    """Text that did not come from the bot: shown as it is, on one line, never read as markup."""

    text: str
    code: bool = False
    """Shown in code format (a query, which is read best as typed)."""
    limit: int = OUTSIDE_LIMIT


@dataclass(frozen=True, slots=True)
class Code:
    """The bot's own literal text in code format: a command, a query example."""

    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """``label`` (outside text; the address itself if empty) leading to ``url``. A platform that can't
    link, or an address it would refuse, shows the label alone."""

    url: str
    label: str = ""


Piece = str | Outside | Code | Link
Line = tuple[Piece, ...]


@dataclass(frozen=True, slots=True)
class Button:
    """A button beside an item that does what a typed command would: ``action`` on the thing ``key``
    names (see :mod:`handlers.actions`)."""

    label: str
    action: Action
    key: str

    @property
    def custom_id(self) -> str:
        """The button's id on the platform: ``news:<action>:<key>`` (at most 100 characters)."""
        return f"news:{self.action}:{self.key}"


@dataclass(frozen=True, slots=True)
class Item:
    line: Line
    button: Button | None = None


@dataclass(frozen=True, slots=True)
class Section:
    heading: str = ""
    lines: tuple[Line, ...] = ()
    items: tuple[Item, ...] = ()
    numbered: bool = False
    """Items as 1., 2., ... (their numbers are what commands take); otherwise bullets."""
    footer: tuple[Line, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """``text``: the reply as plain text (for :func:`reply`, the plain form of ``sections``).
    ``ephemeral``: seen only by whoever ran the command, where the platform can do that."""

    text: str
    ephemeral: bool = True
    sections: tuple[Section, ...] = ()


def reply(*sections: Section, ephemeral: bool = True) -> Reply:
    """A reply laid out in ``sections``; its ``text`` is their plain form."""
    return Reply(plain(sections), ephemeral, sections)


def sections_of(answer: Reply) -> tuple[Section, ...]:
    """The reply's sections; a plain-text reply is one section of its lines."""
    if answer.sections:
        return answer.sections
    return (Section(lines=tuple((line,) for line in answer.text.split("\n"))),)


def shown(text: str, limit: int = OUTSIDE_LIMIT) -> str:
    """Outside text as a reply shows it: control characters out, on one line, at most ``limit``."""
    return truncate(single_line(text), limit)


def piece_text(piece: Piece) -> str:
    """A piece as plain text (a link as its label)."""
    if isinstance(piece, str):
        return piece
    if isinstance(piece, Outside):
        return shown(piece.text, piece.limit)
    if isinstance(piece, Code):
        return piece.text
    return shown(piece.label or piece.url)


def line_text(line: Line) -> str:
    return "".join(piece_text(piece) for piece in line)


def marker(section: Section, n: int) -> str:
    """What starts item ``n`` (1-based) of ``section`` in plain text."""
    return f"{n}. " if section.numbered else "- "


def plain_lines(section: Section) -> Iterator[str]:
    if section.heading:
        yield section.heading
    yield from (line_text(line) for line in section.lines)
    for n, item in enumerate(section.items, 1):
        yield marker(section, n) + line_text(item.line)
    yield from (line_text(line) for line in section.footer)


def plain(sections: tuple[Section, ...]) -> str:
    """The sections as plain text: a line each for the heading, each line and each item; a blank line
    between sections."""
    return "\n\n".join("\n".join(plain_lines(section)) for section in sections)


def buttons(sections: tuple[Section, ...]) -> Iterator[tuple[int, Button]]:
    """Every item's button, with the item's number in its section."""
    for section in sections:
        for n, item in enumerate(section.items, 1):
            if item.button is not None:
                yield n, item.button


def feed_key(url: str) -> str:
    """A feed's key on a button: short (Discord's ids are 100 characters at most), the same every time."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]
