"""Article HTML or plain text to clean body text: paragraphs of running prose, separated by a blank line.

What goes: markup, scripts, navigation, image captions and photo credits, related-link teasers
("... [REVEAL]", "READ MORE: ..."), site branding and the repeated headline or standfirst. What stays:
every real paragraph, verbatim apart from whitespace, in order. Everything here is pure, linear in the
input and never raises on bad markup.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections import Counter
from html.parser import HTMLParser

log = logging.getLogger(__name__)

__all__ = ["clean_article", "clean_text", "html_to_text"]


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


# --- HTML -> text -------------------------------------------------------------------------------------

_BLOCK = _words(
    "address article blockquote br center dd details div dl dt figure h1 h2 h3 h4 h5 h6 hr li main ol p pre "
    "section summary table tbody td th thead tfoot tr ul"
)
_SKIP = _words(
    "aside audio button canvas figcaption footer head header iframe math nav noscript object script select "
    "style svg template textarea title video"
)
# A <form> wraps whole pages on some CMSs (ASP.NET), so its text is kept when it holds real prose.
_SOFT_SKIP = frozenset({"form"})
_HEAD_CONTENT = _words("base link meta noscript script style template title")
_VOID = _words("area base br col embed hr img input link meta param source track wbr")
_CLASS_SKIP = _words(
    "caption credit credits related newsletter share sharing social advert advertisement promo"
)
_NEVER_HIDDEN = frozenset({"html", "body", "main", "article"})
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._open: list[tuple[str, int]] = []  # (tag, 0 keep / 1 skip / 2 soft skip)
        self._counts: Counter[str] = Counter()  # open elements by tag, so stray end tags cost O(1)
        self._skipping = 0
        self._frames: list[list[str]] = [[]]
        self._buffer: list[str] = []

    @property
    def paragraphs(self) -> list[str]:
        return self._frames[0]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._break()
            if self._open and self._open[-1][0] == "p":  # a block start implicitly closes an open <p>
                self._close_to(len(self._open) - 1)
            if tag == "li":
                self._close_sibling("li", stop=("ul", "ol"))
        if self._skipping and tag not in _HEAD_CONTENT and (self._counts["head"] or self._counts["title"]):
            # body content implicitly closes an unclosed <head> or <title>
            self._close_to(next(i for i, (name, _) in enumerate(self._open) if name in ("head", "title")))
        if tag in _VOID:
            return
        hidden = tag not in _NEVER_HIDDEN and _hidden(attrs)
        kind = 1 if tag in _SKIP or hidden else 2 if tag in _SOFT_SKIP else 0
        if kind == 2:
            self._frames.append([])
        self._open.append((tag, kind))
        self._counts[tag] += 1
        self._skipping += kind == 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self._break()
        if not self._counts[tag]:
            return
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                self._close_to(index)
                return

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        parts = _BLANK_LINE.split(data)
        for index, part in enumerate(parts):
            if index:
                self._break()
            self._buffer.append(part)

    def finish(self) -> None:
        self._break()
        while self._open:
            self._pop()

    def _close_sibling(self, tag: str, stop: tuple[str, ...]) -> None:
        if not self._counts[tag]:
            return
        for index in range(len(self._open) - 1, max(len(self._open) - 64, 0) - 1, -1):
            name = self._open[index][0]
            if name in stop:
                return
            if name == tag:
                self._close_to(index)
                return

    def _close_to(self, index: int) -> None:
        while len(self._open) > index:
            self._pop()

    def _pop(self) -> None:
        tag, kind = self._open.pop()
        self._counts[tag] -= 1
        if kind == 1:
            self._skipping -= 1
        elif kind == 2:
            self._break()
            frame = self._frames.pop()
            if any(len(p.split()) >= 20 for p in frame):
                self._frames[-1].extend(frame)

    def _break(self) -> None:
        """End the current paragraph (the buffer only ever holds text outside skipped elements)."""
        if self._buffer:
            text = " ".join("".join(self._buffer).translate(_ZERO_WIDTH).split())
            self._buffer.clear()
            if text:
                self._frames[-1].append(text)


def _hidden(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "class" and value and any(_skip_class(token) for token in value.lower().split()):
            return True
        if name == "style" and value and "display:none" in value.replace(" ", "").lower():
            return True
    return False


def _skip_class(token: str) -> bool:
    """``caption``, ``image-caption``, ``related_links``: a boilerplate word leading or ending the class."""
    parts = token.replace("_", "-").split("-")
    return parts[0] in _CLASS_SKIP or parts[-1] in _CLASS_SKIP


def _without_unclosed_comment(html_text: str) -> str:
    """Browsers treat everything after an unterminated ``<!--`` as comment; html.parser emits it as text."""
    start = html_text.find("<!--")
    while start != -1:
        end = html_text.find("-->", start + 4)
        if end == -1:
            return html_text[:start]
        start = html_text.find("<!--", end + 3)
    return html_text


def html_to_text(html_text: str) -> str:
    """Plain text of an HTML fragment or page: one paragraph per block element, separated by a blank
    line; scripts, navigation, forms, figure captions and hidden elements dropped; entities decoded;
    whitespace collapsed. Never raises: whatever was parsed before a parser error is returned."""
    parser = _TextExtractor()
    try:
        parser.feed(_without_unclosed_comment(html_text))
        parser.close()
    except AssertionError as exc:  # html.parser's only complaint about malformed markup (<![, <!ELEMENT ...)
        log.debug("html parser stopped early (%s); keeping the text before it", exc)
    parser.finish()
    return "\n\n".join(parser.paragraphs)


# --- plain text -> clean text -------------------------------------------------------------------------

_CREDIT_WORDS = r"(?:image|photo|picture|pic|photograph|credit|illustration|graphic|video|footage)s?"
# "(Image: Getty)", "(Photo: AP/Jane Doe)", "[Picture: Reuters]"
_CREDIT = re.compile(r"[(\[]\s*" + _CREDIT_WORDS + r"\s*:[^()\[\]\n]{0,120}[)\]]", re.IGNORECASE)
_CREDIT_OPEN = re.compile(r"[(\[]\s*" + _CREDIT_WORDS + r"\s*:", re.IGNORECASE)
# a caption's tail: "... (Image: Getty)", "... Photograph: Jane Doe/AFP/Getty Images", "(AP Photo/J. Doe)"
_CREDIT_TAIL = re.compile(
    r"(?:[(\[]\s*" + _CREDIT_WORDS + r"\s*:[^()\[\]\n]{0,120}[)\]]\W*"
    r"|(?:^|\s)(?:image|photo|picture|photograph|credit|illustration|composite)s?\s*:\s*[^.!?:]{1,80}"
    r"|getty\s*images?|shutterstock|alamy(?:\s*live\s*news)?|\(\s*(?:ap|afp|pa|epa|reuters)\s*(?:photo|images?)"
    r"[^()]{0,80}\))\s*$",
    re.IGNORECASE,
)
_BRACKET_TAIL = re.compile(r"\[([^\[\]a-z]*)\]\W*$")
_TEASER_HEAD = re.compile(
    r"(?:read\s+more|more|related|see\s+also|also\s+read|don'?t\s+miss|watch|listen|pictured|recommended"
    r"|trending|most\s+read|latest|top\s+stories)\s*[:>»|-]|(?:click|tap)\s+here\b|sign\s+up\b|subscribe\s+to\b"
    r"|follow\s+us\b|the\s+post\s.*\sappeared\s+first\s+on\b",
    re.IGNORECASE,
)
_BOILERPLATE = frozenset(
    {"advertisement", "advert", "share", "share this article", "share this", "comments", "loading"}
    | {"story continues below", "continue reading", "scroll down for video", "supported by"}
)
_TERMINAL = frozenset('.!?…:”"')
_CLOSERS = "’'»)]*"
_WORD = re.compile(r"\w+")
_MAX_HEADLINE_WORDS = 18
_LOWER_START = re.compile(r"[\"'“‘(]?[a-z]")
_WRAP_END = re.compile(
    r"(?:[,;\-–—]|\b(?:a|an|the|of|to|in|on|at|for|and|or|but|with|by|from|that|as|is|was|are|were|be)\b)$",
    re.IGNORECASE,
)
_QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"}
)


def _normal(line: str) -> str:
    """Comparison key: case, quotes, dashes, whitespace and edge punctuation folded away."""
    return " ".join(line.translate(_QUOTES).casefold().split()).strip(" .,:;!?'\"-|…→»")


def _is_sentence(line: str) -> bool:
    """Ends like prose: terminal punctuation, possibly inside closing quotes or brackets or before emoji."""
    end = len(line)
    while end and (line[end - 1] in _CLOSERS or unicodedata.category(line[end - 1])[0] in "SZ"):
        end -= 1  # '... go in.”', "... today! 🙂"
    if not end:
        return False
    if line[end - 1] == ":":
        return len(line.split()) >= 2
    return line[end - 1] in _TERMINAL


def _ends_in_tag(line: str) -> bool:
    """Ends in a bracketed all-caps tag: "... [REVEAL]", "... [PICTURES]"."""
    match = _BRACKET_TAIL.search(line)
    return match is not None and any(c.isupper() for c in match.group(1))


def _is_caption_or_teaser(line: str) -> bool:
    return bool(
        _CREDIT_TAIL.search(line)
        or _CREDIT_OPEN.search(line)
        or _ends_in_tag(line)
        or _TEASER_HEAD.match(line)
        or _normal(line) in _BOILERPLATE
    )


def _paragraph_lines(text: str) -> list[str]:
    """Split into lines, re-joining hard-wrapped paragraphs (a block whose line breaks fall mid-sentence)."""
    lines: list[str] = []
    for block in _BLANK_LINE.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        rows = [" ".join(row.translate(_ZERO_WIDTH).split()) for row in block.split("\n")]
        rows = [row for row in rows if row]
        breaks = [_mid_sentence(a) for a in rows[:-1]]
        wrapped = any(
            brk and (_LOWER_START.match(b) is not None or _WRAP_END.search(a) is not None)
            for brk, a, b in zip(breaks, rows, rows[1:], strict=False)
        )
        for index, row in enumerate(rows):
            if wrapped and index and breaks[index - 1]:
                lines[-1] = f"{lines[-1]} {row}"
            else:
                lines.append(row)
    return lines


def _mid_sentence(line: str) -> bool:
    return not _is_sentence(line) and not _ends_in_tag(line)


def clean_text(text: str, *, title: str = "", source: str = "") -> str:
    """Cleaned body text from plain text whose paragraphs are separated by blank lines or newlines.

    Drops photo credits and the caption lines they end, related-link teasers, branding, the repeated
    headline, and short lines that are not sentences (captions, subheads, teaser headlines) when the
    text has real prose around them. Paragraphs that remain are returned in order, joined by a blank
    line, verbatim apart from collapsed whitespace and removed credits."""
    title_key = _normal(title)
    source_key = _normal(source)
    entries: list[tuple[str, bool]] = []  # (line, is short and not a sentence)
    for raw in _paragraph_lines(text):
        line = raw
        if not _CREDIT_TAIL.search(line):  # a credit inside prose goes; a line ending in one is a caption
            line = " ".join(_CREDIT.sub(" ", line).split())
        key = _normal(line)
        if not key or _is_caption_or_teaser(line) or key in (title_key, source_key):
            continue
        words = len(_WORD.findall(line))
        entries.append((line, not _is_sentence(line) and words <= _MAX_HEADLINE_WORDS and len(line) <= 160))

    has_prose = any(not short for _, short in entries)
    kept: list[str] = []
    seen: set[str] = set()
    after_colon = False  # short lines after "The package includes:" are list items, not headlines
    for line, short in entries:
        key = _normal(line)
        if (short and has_prose and not after_colon) or key in seen:
            continue
        seen.add(key)
        kept.append(line)
        if not short:
            after_colon = line.rstrip(_CLOSERS + " ").endswith(":")
    return "\n\n".join(kept)


_HTML_TAG = re.compile(r"<(?:[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?|/[a-zA-Z][\w:-]*\s*)>|<!--")
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")


def clean_article(title: str, body: str, *, is_html: bool | None = None, source: str = "") -> str:
    """The article body as the pipeline stores it: HTML (detected by its tags when ``is_html`` is None)
    converted to text, then :func:`clean_text`. Never raises."""
    if is_html is None:
        is_html = _HTML_TAG.search(body) is not None
    if is_html:
        return clean_text(html_to_text(body), title=title, source=source)
    return clean_text(html.unescape(body) if _ENTITY.search(body) else body, title=title, source=source)
