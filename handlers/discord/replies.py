"""A /news reply as a Discord interaction response, in the shape of Discord's API and without
discord.py, so it is testable as plain JSON: a short answer (a line or two, no heading, no list) as
message content; anything with a heading or a list as one embed (the first heading its title, each
line and item a line of its description); a button for each item that has one, as many as a message
holds. Pure.

Every piece is escaped as alerts are (:mod:`handlers.discord.render`), the bot's own words too;
``allowed_mentions`` permits nothing, so not even a mention that slipped through could ping.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from handlers.discord.render import (
    DEFAULT_COLOUR,
    DESCRIPTION_LIMIT,
    TITLE_LIMIT,
    AllowedMentions,
    code,
    escape_markdown,
    link,
)
from handlers.replies import (
    Code,
    Line,
    Link,
    Outside,
    Piece,
    Reply,
    Section,
    buttons,
    line_text,
    sections_of,
    shown,
)
from handlers.text import ELLIPSIS, drop_unsafe, fit

CONTENT_LIMIT = 2000
PIECE_LIMIT = 600
"""The most characters one piece of outside text takes, once escaped."""
LINE_LIMIT = 1500
MAX_BUTTONS = 25
"""Five rows of five: what one message holds."""
BUTTON_LABEL_LIMIT = 80


class ReplyButton(TypedDict):
    label: str
    custom_id: str


class ReplyEmbed(TypedDict):
    color: int
    title: NotRequired[str]
    description: NotRequired[str]


class DiscordReply(TypedDict):
    content: str
    embeds: list[ReplyEmbed]
    allowed_mentions: AllowedMentions
    buttons: NotRequired[list[ReplyButton]]


def render_discord_reply(answer: Reply) -> DiscordReply:
    sections = sections_of(answer)
    rendered: DiscordReply = {"content": "", "embeds": [], "allowed_mentions": {"parse": [], "roles": []}}
    if _short(sections):
        lines = [markdown_line(line) for line in sections[0].lines]
        rendered["content"] = _fit_lines(lines, CONTENT_LIMIT) or ELLIPSIS
        return rendered
    embed: ReplyEmbed = {"color": DEFAULT_COLOUR}
    lines = []
    for i, section in enumerate(sections):
        if i and lines:
            lines.append("")
        if section.heading and i == 0:
            embed["title"] = fit(section.heading, TITLE_LIMIT, escape_markdown)
        elif section.heading:
            lines.append(f"**{escape_markdown(section.heading)}**")
        lines.extend(markdown_line(line) for line in section.lines)
        lines.extend(
            markdown_line(item.line, f"{n}. " if section.numbered else "- ")
            for n, item in enumerate(section.items, 1)
        )
        lines.extend(markdown_line(line) for line in section.footer)
    if description := _fit_lines(lines, DESCRIPTION_LIMIT):
        embed["description"] = description
    if not description and "title" not in embed:
        rendered["content"] = ELLIPSIS  # nothing to show: an empty embed is refused
        return rendered
    rendered["embeds"] = [embed]
    shown_buttons = [
        ReplyButton(label=fit(f"{button.label} {n}", BUTTON_LABEL_LIMIT, str), custom_id=button.custom_id)
        for n, button in buttons(sections)
    ]
    if shown_buttons:
        rendered["buttons"] = shown_buttons[:MAX_BUTTONS]
    return rendered


def markdown_line(line: Line, marker: str = "") -> str:
    """A line as Discord markdown after ``marker`` (ours: a number or a bullet), at most
    :data:`LINE_LIMIT` long: a longer one is shown as plain text, escaped and cut."""
    text = marker + "".join(markdown_piece(piece) for piece in line)
    if len(text) <= LINE_LIMIT:
        return text
    return marker + fit(drop_unsafe(line_text(line)), LINE_LIMIT - len(marker), escape_markdown)


def markdown_piece(piece: Piece) -> str:
    if isinstance(piece, str):
        return escape_markdown(drop_unsafe(piece))
    if isinstance(piece, Code):
        return code(" ".join(drop_unsafe(piece.text).split()))
    if isinstance(piece, Outside):
        text = shown(piece.text, piece.limit)
        return fit(text, PIECE_LIMIT, code) if piece.code else fit(text, PIECE_LIMIT, escape_markdown)
    assert isinstance(piece, Link)
    return link(piece.url, shown(piece.label or piece.url))


def _short(sections: tuple[Section, ...]) -> bool:
    """A confirmation or an error: one section of a few lines, no heading, no list."""
    only = sections[0]
    return len(sections) == 1 and not only.heading and not only.items and not only.footer


def _fit_lines(lines: list[str], limit: int) -> str:
    """``lines`` joined by newlines; if they do not all fit in ``limit``, as many as do, then a line
    that counts those left out."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    for kept in range(len(lines) - 1, -1, -1):
        candidate = "\n".join([*lines[:kept], f"{ELLIPSIS}and {len(lines) - kept} more lines"])
        if len(candidate) <= limit:
            return candidate
    return ELLIPSIS
