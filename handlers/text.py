"""What every chat renderer needs before its own syntax: article text made safe to lay out (no control
characters), cut to a platform limit at a word boundary, and the spans of the matched terms to bold.

Pure functions. Platform syntax (escaping, bold markers, mention forms) lives in each renderer; these
helpers take it as callables so every platform bolds the same words and cuts the same way.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from bot.core.models import Headline

ELLIPSIS = "…"
DIGEST_STORIES = 25
"""Stories a digest message names, on every platform; the others are counted."""
ZWSP = "\u200b"
"""Zero-width space: inserted after ``@`` or ``<`` so a platform no longer reads a mention there."""

Span = tuple[int, int]

# C0/C1 controls except newline and tab, and the bidi embeddings/overrides/isolates: an unterminated
# override in a headline would reverse the rest of the message (source, time, our own labels).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
# Cut before these, not after: "word," + "…" reads worse than "word…".
_DANGLING = " \t\n,;:-–—([{‘“«/\\"
# Characters that belong to the one before them: a hard cut must not separate them from it.
_JOINERS = re.compile("[\u200c\u200d\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")
# Stops at characters that are markdown in every chat syntax, so none of them is left unescaped.
_URL = re.compile(r"https?://[^\s<>\"\\\[\]|`*~]*[^\s<>\"\\'.,;:!?()\[\]{}|`*~_]")


def drop_unsafe(text: str) -> str:
    """``text`` without control characters (newlines and tabs kept) or bidi overrides."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def single_line(text: str) -> str:
    """For titles, sources, terms and labels: unsafe characters dropped, whitespace runs as one space."""
    return " ".join(drop_unsafe(text).split())


def paragraphs(text: str) -> str:
    """For summaries: unsafe characters dropped, tabs as spaces, at most one blank line in a row."""
    lines = [" ".join(line.split()) for line in drop_unsafe(text).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def truncate(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters; otherwise its longest prefix ending at a word
    boundary, followed by "…", in at most ``limit`` characters. A word longer than half the room (a
    URL, a language written without spaces) is cut inside, never between a character and the mark,
    joiner or emoji modifier that belongs to it."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    room = limit - 1
    cut = room
    if not text[room].isspace():
        space = max(text.rfind(ch, 0, room + 1) for ch in " \n\t\u00a0\u3000")
        if space >= room // 2 and space > 0:
            cut = space
        else:
            while cut > 0 and (_JOINERS.match(text[cut]) or unicodedata.combining(text[cut])):
                cut -= 1
            if cut > 0 and text[cut - 1] == "\u200d":
                cut -= 1
    head = text[:cut].rstrip(_DANGLING)
    return head + ELLIPSIS


def fit(text: str, limit: int, render: Callable[[str], str]) -> str:
    """``render(text)`` if that is at most ``limit`` characters; otherwise the render of the longest
    :func:`truncate` of ``text`` whose render is ("" if none is). Cutting the source, not the rendered
    string, means an escape sequence, an entity or a bold marker is never cut in half, and escaping
    that lengthens the text (``&`` → ``&amp;``) is paid for within the limit. ``render`` must never
    make a text shorter (escaping only adds), so a text already over the limit is not rendered whole."""
    if len(text) <= limit and len(whole := render(text)) <= limit:
        return whole
    best = ""
    low, high = 0, min(len(text), limit)
    while low <= high:
        mid = (low + high) // 2
        candidate = render(truncate(text, mid))
        if len(candidate) <= limit:
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    return best


def join_fitting(items: Sequence[str], separator: str, limit: int) -> str:
    """``items`` (already rendered) joined by ``separator``; if they do not all fit in ``limit``, as
    many as do, then "…"."""
    joined = separator.join(items)
    if len(joined) <= limit:
        return joined
    kept = list(items)
    while kept:
        kept.pop()
        candidate = separator.join([*kept, ELLIPSIS])
        if len(candidate) <= limit:
            return candidate
    return ELLIPSIS if limit >= 1 else ""


@lru_cache(maxsize=1024)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    words = term.split()
    if not words:
        return None
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def term_spans(text: str, terms: Iterable[str], *, avoid: Sequence[Span] = ()) -> list[Span]:
    """Where the matched ``terms`` occur in ``text`` as whole words, case-insensitively, sorted: a
    longer term is placed first ("air defence" before "air"), spans never overlap, and none touches
    an ``avoid`` span (a URL, where bold would break the link)."""
    taken = sorted(avoid)  # non-overlapping, so sorted by start is also sorted by end
    found: list[Span] = []
    for term in sorted(set(terms), key=lambda t: (-len(t), t)):
        pattern = _term_pattern(term)
        if pattern is None:
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            i = bisect.bisect_left(taken, (start, end))
            clashes = (i < len(taken) and taken[i][0] < end) or (i > 0 and taken[i - 1][1] > start)
            if start < end and not clashes:
                taken.insert(i, (start, end))
                found.append((start, end))
    return sorted(found)


def url_spans(text: str) -> list[Span]:
    """Where bare http(s) links are in ``text``; renderers leave them unescaped and unbolded."""
    return [m.span() for m in _URL.finditer(text)]


def mark(
    text: str,
    spans: Sequence[Span],
    *,
    escape: Callable[[str], str],
    bold: Callable[[str], str],
    links: Sequence[Span] = (),
    escape_link: Callable[[str], str] = str,
) -> str:
    """``text`` escaped piece by piece, each of ``spans`` also bolded, each of ``links`` passed through
    ``escape_link`` instead (by default copied as it is). Spans must not overlap links
    (:func:`term_spans` with ``avoid=links`` ensures it)."""
    link_set = set(links)
    out: list[str] = []
    position = 0
    for start, end in sorted([*spans, *links]):
        out.append(escape(text[position:start]))
        piece = text[start:end]
        out.append(escape_link(piece) if (start, end) in link_set else bold(escape(piece)))
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def web_url(url: str, limit: int) -> str:
    """``url`` if a platform will accept it as a link (http or https, no spaces, within ``limit``);
    otherwise "". A link cannot be shortened, so one that is too long is left out."""
    url = url.strip()
    if len(url) > limit or not re.fullmatch(r"https?://[^\s<>\"]+", url, re.IGNORECASE):
        return ""
    return url


_LINK_UNSAFE = re.compile(r"[()\[\]{}|<>`\\^\"]")
_LINK_PING = re.compile(r"@(?=everyone|here|channel)", re.IGNORECASE)


def link_target(url: str, limit: int) -> str:
    """``url`` as the target of a link in chat markup (Slack's ``<url|label>``, a Discord ``[label](url)``):
    :func:`web_url`, then each character that could end the target or start markup percent-encoded, and
    an ``@`` before everyone, here or channel too; "" for an address :func:`web_url` refuses or one that
    encoding makes longer than ``limit``."""
    target = web_url(url, limit)
    target = _LINK_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", target)
    target = _LINK_PING.sub("%40", target)
    return target if len(target) <= limit else ""


def as_utc(when: datetime) -> datetime:
    """``when`` in UTC; a naive time is taken to be UTC already."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def human_time(when: datetime) -> str:
    """The time as the console shows it: "24 Nov 2026 08:00 UTC"."""
    return as_utc(when).strftime("%d %b %Y %H:%M UTC")


def listed_stories(headlines: Sequence[Headline]) -> tuple[Sequence[Headline], str]:
    """The stories a digest names (the first :data:`DIGEST_STORIES`), and the line that counts the
    others ("…and 3 more"; "" when none is left out)."""
    more = len(headlines) - DIGEST_STORIES
    return headlines[:DIGEST_STORIES], f"{ELLIPSIS}and {more} more" if more > 0 else ""
