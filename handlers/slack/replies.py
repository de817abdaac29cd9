"""A /news reply as a Slack message: Block Kit for ``respond()`` and ``chat.postEphemeral`` (a header,
sections of mrkdwn, a button beside each item that has one) and the plain ``text`` Slack shows where
blocks can't be. Pure.

Every piece is escaped as alerts are (:mod:`handlers.slack.render`), the bot's own words too, and
every mrkdwn object is ``verbatim``, so Slack links no bare word or address: the only markup is ours
(a bold heading, code spans, ``<url|label>`` links). An item with a button is a section of its own
with the button as its accessory; Block Kit allows 50 blocks, so past :data:`MAX_BUTTON_ROWS` items
are listed without one (typing the command still works).
"""

from __future__ import annotations

from typing import Any, TypedDict

from handlers.replies import Button, Code, Line, Link, Outside, Piece, Reply, line_text, sections_of, shown
from handlers.slack.render import (
    HEADER_LIMIT,
    SECTION_LIMIT,
    code,
    escape_mrkdwn,
    link,
    pack,
    plain,
)
from handlers.text import drop_unsafe, fit, single_line

BLOCK_LIMIT = 50
MAX_BUTTON_ROWS = 40
TEXT_LIMIT = 3000
PIECE_LIMIT = 600
"""The most characters one piece of outside text takes in a section, once escaped."""
BUTTON_LABEL_LIMIT = 75

Block = dict[str, Any]


class SlackReply(TypedDict):
    text: str
    blocks: list[Block]


def render_slack_reply(answer: Reply) -> SlackReply:
    """The reply as Block Kit: the first section's heading as a header, later headings in bold, each
    line and item escaped, an item's button as its section's accessory."""
    blocks: list[Block] = []
    rows = 0
    for i, section in enumerate(sections_of(answer)):
        texts: list[str] = []
        if section.heading and i == 0:
            blocks.append(_header(section.heading))
        elif section.heading:
            texts.append(f"*{escape_mrkdwn(section.heading)}*")
        texts.extend(mrkdwn_line(line) for line in section.lines)
        for n, item in enumerate(section.items, 1):
            text = mrkdwn_line(item.line, f"{n}. " if section.numbered else "• ")
            if item.button is not None and rows < MAX_BUTTON_ROWS:
                rows += 1
                blocks.extend(_sections(texts))
                texts = []
                blocks.append({"type": "section", "text": _mrkdwn(text), "accessory": _button(item.button)})
            else:
                texts.append(text)
        texts.extend(mrkdwn_line(line) for line in section.footer)
        blocks.extend(_sections(texts))
    if len(blocks) > BLOCK_LIMIT:
        more = {"type": "context", "elements": [_mrkdwn("…and more than one message can show")]}
        blocks = [*blocks[: BLOCK_LIMIT - 1], more]
    text = fit(drop_unsafe(answer.text), TEXT_LIMIT, escape_mrkdwn) or "…"
    return {"text": text, "blocks": blocks}


def mrkdwn_line(line: Line, marker: str = "") -> str:
    """A line as mrkdwn after ``marker`` (ours: a number or a bullet), at most a section long: one too
    long (outside text that escaping lengthens a lot) is shown as plain text, escaped and cut."""
    text = marker + "".join(mrkdwn_piece(piece) for piece in line)
    if len(text) <= SECTION_LIMIT:
        return text
    return fit(drop_unsafe(marker + line_text(line)), SECTION_LIMIT, escape_mrkdwn)


def mrkdwn_piece(piece: Piece) -> str:
    if isinstance(piece, str):
        return escape_mrkdwn(drop_unsafe(piece))
    if isinstance(piece, Code):
        return code(single_line(piece.text))
    if isinstance(piece, Outside):
        text = shown(piece.text, piece.limit)
        return fit(text, PIECE_LIMIT, code) if piece.code else fit(text, PIECE_LIMIT, escape_mrkdwn)
    assert isinstance(piece, Link)
    return link(piece.url, shown(piece.label or piece.url))


def _header(heading: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": fit(heading, HEADER_LIMIT, plain)}}


def _button(button: Button) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": fit(button.label, BUTTON_LABEL_LIMIT, plain)},
        "action_id": button.custom_id,
        "value": button.key,
    }


def _sections(texts: list[str]) -> list[Block]:
    return [{"type": "section", "text": _mrkdwn(text)} for text in pack(texts)]


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text, "verbatim": True}
