"""Helpers for the tests of /news replies: what a reader sees of a rendered reply on Slack and on
Discord, the checks that no text in it can be live markup, and hypothesis strategies for replies whose
outside text is hostile."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

from handlers.replies import Button, Code, Item, Link, Outside, Piece, Reply, Section, reply
from handlers.text import ZWSP
from tests.render_support import FRAGMENTS, hostile

# --- what a reader sees ------------------------------------------------------------------------------


def discord_shown(message: dict[str, Any]) -> str:
    """The text Discord shows for a reply's message (``data`` of an interaction callback): its content,
    its embed's title and description; escapes resolved, code and bold markers gone, links as labels."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
    text = "\n".join(part for part in parts if part)
    text = re.sub(r"(?<!\\)\[((?:\\.|[^\]\\])*)\]\((https?://[^\s()]+)\)", r"\1", text)
    return re.sub(r"\\([^0-9A-Za-z\s])|\*\*|`", lambda m: m.group(1) or "", text).replace(ZWSP, "")


def slack_shown(message: dict[str, Any]) -> str:
    """The text Slack shows for a reply's blocks: each header, section and context text, entities
    decoded, links as their labels, code markers gone."""
    texts = []
    for block in message.get("blocks") or []:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [
            e["text"] for e in block.get("elements") or [] if "text" in e and isinstance(e["text"], str)
        ]
    text = "\n".join(texts)
    text = re.sub(r"<https?://[^|<>]+\|([^<>]*)>", r"\1", text)
    text = re.sub(r"<(https?://[^|<>]+)>", r"\1", text).replace("`", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace(ZWSP, "")


# --- what must never be in a reply -------------------------------------------------------------------

SLACK_LIVE = re.compile(r"<[!@#]|@(?:channel|here|everyone)", re.IGNORECASE)
"""A Slack mention or broadcast: ``<!channel>``, ``<!here>``, ``<@U…>``, ``<#C…>``, ``<!subteam^…>``,
or a bare @channel a client might still read."""
SLACK_LINK = re.compile(r"<(https?://[^\s<>|]+)(?:\|([^<>]*))?>")
SLACK_CODE = re.compile(r"`([^`\n]*)`")
DISCORD_LIVE = re.compile(
    r"@(?:everyone|here)|<@[!&]?\d+>|<#\d+>|</[^\s<>]+:\d+>|<t:-?\d+(?::\w)?>|<id:\w+>|<a?:\w+:\d+>",
    re.IGNORECASE,
)
DISCORD_LINK = re.compile(r"\[((?:\\.|[^\]\\\n])*)\]\((https?://[^\s()<>]+)\)")
TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def slack_mrkdwn(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn text of a reply's message: ``text`` and the text objects of its blocks."""
    texts = [message["text"]]
    for block in message["blocks"]:
        objects = [block.get("text") or {}, *(block.get("elements") or [])]
        texts += [o["text"] for o in objects if o.get("type") == "mrkdwn"]
    return texts


def slack_unmarked(text: str, targets: set[str]) -> str:
    """``text`` with our own markup taken out: each link (whose target must be one of ``targets``),
    each code span, a bold heading; what is left must hold no markup at all."""
    for match in SLACK_LINK.finditer(text):
        assert match.group(1).replace("&amp;", "&") in targets, match.group(0)
        assert not re.search(r"[<>`*_~]", match.group(2) or ""), match.group(0)
    text = SLACK_LINK.sub(" ", text)
    for match in SLACK_CODE.finditer(text):
        assert not re.search(r"[<>]", match.group(1)), match.group(0)
    text = SLACK_CODE.sub(" ", text)
    return re.sub(r"^\*[^*\n]+\*$", " ", text, flags=re.MULTILINE)


def discord_unmarked(text: str, targets: set[str]) -> str:
    """``text`` with our own markup taken out, read as Discord reads it (a backslash escapes the next
    character; a code span runs to the next backtick): each code span, each ``[label](url)`` link (to
    one of ``targets``, its label escaped), bold headings, list markers. What is left must hold no
    unescaped markup but bare addresses (links, which Discord leaves unformatted)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i : i + 2])
            i += 2
            continue
        end = text.find("`", i + 1) if char == "`" else -1
        if end != -1 and "\n" not in text[i:end]:
            out.append(" ")
            i = end + 1
            continue
        if char == "[" and (match := DISCORD_LINK.match(text, i)):
            assert match.group(2) in targets, match.group(0)
            assert discord_unescaped_markup(match.group(1)) == [], match.group(0)
            out.append(" ")
            i = match.end()
            continue
        out.append(char)
        i += 1
    left = "".join(out)
    left = re.sub(r"^\*\*(?:\\.|[^*\\\n])+\*\*$", " ", left, flags=re.MULTILINE)
    return re.sub(r"^(?:\d+\. |- )", " ", left, flags=re.MULTILINE)


def discord_unescaped_markup(text: str) -> list[str]:
    """Markdown characters not escaped by a backslash (Discord shows an escaped one literally)."""
    return re.findall(r"[*_~`|\[\]]", re.sub(r"\\.", "", text))


# --- replies with hostile outside text ------------------------------------------------------------------

URLS = [
    "https://example.com/story?id=1&x=<y>",
    "https://evil.example/phish|see photos",
    "https://x.example/a_(b)_[c]`d`@here",
    "javascript:alert(1)",
    "",
]
urls = st.one_of(st.sampled_from(URLS), hostile)
pieces: st.SearchStrategy[Piece] = st.one_of(
    st.sampled_from(["Seen ", " — ", " (matched: ", ")", ": "]),
    st.builds(Outside, hostile, st.booleans()),
    st.builds(Code, st.sampled_from(["/news subscribe <query>", "Ukrain*", "a NEAR/5 b"])),
    st.builds(Link, urls, hostile),
)
lines = st.lists(pieces, max_size=6).map(tuple)
buttons_ = st.one_of(
    st.none(),
    st.builds(Button, st.just("Unsubscribe"), st.just("unsubscribe"), st.integers(1, 10**6).map(str)),
)
items = st.builds(Item, lines, buttons_)
sections = st.builds(
    Section,
    heading=st.sampled_from(["", "Subscriptions in this channel", "Queries"]),
    lines=st.lists(lines, max_size=3).map(tuple),
    items=st.lists(items, max_size=8).map(tuple),
    numbered=st.booleans(),
    footer=st.lists(lines, max_size=2).map(tuple),
)
replies = st.one_of(
    st.lists(sections, min_size=1, max_size=3).map(lambda s: reply(*s)),
    st.builds(Reply, st.one_of(hostile, st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join))),
)


def link_targets(answer: Reply) -> set[str]:
    """The addresses of a reply's links, as any renderer may encode them."""
    from handlers.text import link_target

    return {
        link_target(piece.url, 3000)
        for section in answer.sections
        for line in (*section.lines, *(i.line for i in section.items), *section.footer)
        for piece in line
        if isinstance(piece, Link)
    } - {""}
