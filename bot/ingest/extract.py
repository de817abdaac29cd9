"""Full text for feed items that carry only a teaser: fetch the article page, extract its main text.

The extractor is trafilatura with ``favor_precision``, chosen by ``bench/extraction.py`` on the
Zyte/Scrapinghub article-extraction benchmark (181 real pages, human-cleaned bodies): it scored highest
of the maintained extractors measured there, and stays above F1 0.95 after our cleaner. Its output is
walked block by block (paragraph, heading, list, table, quote) and every block goes through
:func:`bot.ingest.clean.clean_text` on its own, so photo credits, captions, "[REVEAL]" teasers and
"READ MORE:" lines go. The cleaner's other rule, dropping short lines that are not sentences, exists for
feed text that has lost its structure; on an extracted page it mostly removes real subheads, list items
and table rows (the benchmark lost about two points of F1 to it), so it is replaced by a structural one:
a block that is almost all link text and does not read as a sentence is a related-story teaser.

:func:`extract_article` is pure and CPU-bound; :class:`ArticlePageFetcher` does the I/O and runs the
extraction in a worker thread. Nothing here fetches on its own: trafilatura only ever sees a string.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from trafilatura import bare_extraction
from trafilatura.xml import xmltotxt

from bot.core.errors import FeedError
from bot.core.http import BodyTooLarge, read_capped
from bot.ingest.clean import clean_text

__all__ = ["ArticlePageError", "ArticlePageFetcher", "extract_article", "needs_full_text"]

log = logging.getLogger(__name__)
# trafilatura logs "discarding data" at WARNING for every page it finds no article in; for the bot an
# empty extraction is an ordinary outcome, reported by its caller.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
MIN_ARTICLE_CHARS = 100
"""Less text than this (in all) is not an article: an error page, a paywall stub, a bare headline."""
_LINK_SHARE = 0.9  # a block whose text is at least this share link text is navigation or a teaser
_ROW_BLOCKS = frozenset({"list", "table"})  # one paragraph per item or row
_TERMINAL = frozenset(".!?…:;。！？")
_CLOSERS = "\"'”’»)]*"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)


def needs_full_text(text: str, min_chars: int) -> bool:
    """Whether a feed item's body is only a teaser worth replacing by the article page's text: it has
    fewer than ``min_chars`` characters once whitespace is collapsed. ``min_chars`` 0 turns it off."""
    return min_chars > 0 and len(" ".join(text.split())) < min_chars


def extract_article(html: str, url: str = "") -> str:
    """The main text of an article page: paragraphs in page order, separated by a blank line, cleaned
    like every body the bot stores (no captions, credits, link teasers, navigation or cookie notices).
    Empty when the page holds nothing article-like. Pure and CPU-bound; never raises."""
    try:
        paragraphs = _clean_blocks(_blocks(html, url))
    except Exception:  # a third-party parser on hostile input: no page may cost more than its text
        log.debug("article extraction failed for %s", url or "a page", exc_info=True)
        return ""
    text = "\n\n".join(paragraphs)
    return text if len(text) >= MIN_ARTICLE_CHARS else ""


@dataclass(frozen=True, slots=True)
class _Block:
    text: str
    link_share: float


def _blocks(html: str, url: str) -> list[_Block]:
    """The extractor's main-content blocks as plain text, each with the share of its text in links;
    lists and tables become one block per item or row."""
    if not html.strip():
        return []
    document: Any = bare_extraction(
        html,
        url=url or None,
        favor_precision=True,
        include_comments=False,
        include_links=True,  # only to measure link share; links are rendered as their text
        with_metadata=False,
        deduplicate=False,
    )
    body = getattr(document, "body", None)
    if body is None:
        return []
    blocks: list[_Block] = []
    for element in body:
        total = len("".join(element.itertext()).strip())
        linked = 0
        for ref in element.iter("ref"):
            linked += len("".join(ref.itertext()).strip())
            ref.tag = "hi"  # rendered as its plain text, without the target
        share = linked / total if total else 0.0
        text = xmltotxt(element, False).strip()
        if element.tag in _ROW_BLOCKS:  # "| cell | cell |" rows and "- item" lines; no "|---|" rules
            rows = [row.strip().strip("|").strip() for row in text.splitlines()]
            blocks.extend(_Block(row, share) for row in rows if row.strip("|-: "))
        elif text:
            blocks.append(_Block(text, share))
    return blocks


def _clean_blocks(blocks: list[_Block]) -> list[str]:
    paragraphs: list[str] = []
    for block in blocks:
        cleaned = clean_text(block.text)
        if not cleaned or (block.link_share >= _LINK_SHARE and not _reads_as_prose(cleaned)):
            continue
        paragraphs.extend(cleaned.split("\n\n"))
    return paragraphs


def _reads_as_prose(paragraph: str) -> bool:
    """Ends like a sentence (terminal punctuation, possibly inside closing quotes or brackets)."""
    stripped = paragraph.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _TERMINAL


# --- fetching -----------------------------------------------------------------------------------------


class ArticlePageError(FeedError):
    """An article page could not be fetched, or is not an HTML page. ``retryable`` as for feeds."""


class ArticlePageFetcher:
    """Fetches article pages through a shared aiohttp session (give it the bot's guarded session, so
    article URLs taken from feeds get the same address checks as feeds) with a timeout and a body cap,
    and extracts their text in a worker thread so the event loop never waits on the parser."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 15.0,
        max_body_bytes: int = 5_000_000,
        user_agent: str = "newsbot",
    ) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self.max_body_bytes = max_body_bytes
        self.user_agent = user_agent

    async def fetch_text(self, url: str) -> str:
        """The article text at ``url`` ("" when the page holds no article). Raises
        :class:`ArticlePageError` (a :class:`FeedError`) naming the page and the reason: an HTTP error,
        a timeout, an oversized body, a content type that is not HTML, a connection failure."""
        html = await self.fetch_html(url)
        return await asyncio.to_thread(extract_article, html, url)

    async def fetch_html(self, url: str) -> str:
        """The page at ``url`` as text, decoded by its declared charset (header, then ``<meta>``)."""
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        }
        try:
            async with self.session.get(url, headers=headers, timeout=self.timeout) as resp:
                if resp.status >= 400:
                    raise ArticlePageError(
                        f"article page {url}: HTTP {resp.status}",
                        retryable=resp.status >= 500 or resp.status == 429,
                    )
                declared = resp.headers.get("Content-Type")
                if declared is not None and resp.content_type not in HTML_TYPES:
                    raise ArticlePageError(
                        f"article page {url} is {resp.content_type}, not an HTML page", retryable=False
                    )
                body = await self._read_capped(resp, url)
                return _decode(body, resp.charset)
        except TimeoutError as exc:
            raise ArticlePageError(f"article page {url}: timed out after {self.timeout.total:g}s") from exc
        except aiohttp.ClientError as exc:
            raise ArticlePageError(f"article page {url}: {type(exc).__name__}: {exc}") from exc

    async def _read_capped(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        try:
            return await read_capped(resp.content, resp.content_length, self.max_body_bytes)
        except BodyTooLarge as exc:
            raise ArticlePageError(f"article page {url}: {exc}", retryable=False) from exc


def _decode(body: bytes, header_charset: str | None) -> str:
    """Bytes to text by the header's charset, else a ``<meta charset>`` near the top, else UTF-8;
    undecodable bytes become U+FFFD rather than an error."""
    for candidate in (header_charset, _meta_charset(body)):
        if candidate:
            try:
                codec = codecs.lookup(candidate).name
            except LookupError:
                continue
            return body.decode(codec, errors="replace")
    return body.decode("utf-8", errors="replace")


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None
