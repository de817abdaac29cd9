"""Finding the feed behind a web page, for ``/news feeds add https://site.example``: the page's
``<link rel="alternate">`` to RSS, Atom or JSON Feed, else the paths sites usually serve one at.

Every request goes through a :class:`bot.ingest.fetch.FeedReader`, in the bot the poller's kind of
:class:`bot.ingest.fetch.HttpReader` on the guarded session (:mod:`bot.ingest.safety`: the address policy
on every hop, redirects included, and the body cap), so a link to a private address is refused like a
feed URL typed with one. A candidate counts only when it parses as a feed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urljoin, urlsplit

from bot.core.errors import FeedError
from bot.core.models import FeedState
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import FeedReader, FetchResult
from bot.ingest.safety import UnsafeXmlError

log = logging.getLogger(__name__)

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
USUAL_PATHS = ("/feed", "/rss", "/feed.xml", "/atom.xml", "/index.xml")
MAX_LINKS = 4
"""Feed links of one page tried, in page order (a site's main feed comes first; comment feeds last)."""
HEAD_BYTES = 512_000
"""How much of a page is searched for links: they belong in its head."""
_HTML = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)

How = Literal["given", "link", "path"]


@dataclass(frozen=True, slots=True)
class FoundFeed:
    url: str
    title: str = ""
    how: How = "given"
    """given: the URL is a feed itself; link: the page's ``<link rel="alternate">``; path: a usual path."""


class NoFeedFound(FeedError):
    """The URL is a page the bot read, and no feed for it was found. Never retryable."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def feed_links(html: str, base: str) -> list[str]:
    """The absolute http(s) URLs of the feeds a page names with ``<link rel="alternate" type=...>`` (RSS,
    Atom, JSON Feed), in page order with comment feeds last, each once. Pure; never raises."""
    parser = _LinkParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # the stdlib parser on hostile markup: keep what was found before it gave up
        log.debug("feed links: the page's markup stopped the parser", exc_info=True)
    base = urljoin(base, parser.base) if parser.base else base
    found: dict[str, bool] = {}
    for href, title in parser.links:
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https"):
            found.setdefault(url, "comment" in (href + " " + title).lower())
    return sorted(found, key=lambda url: found[url])


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base = ""
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "").strip() for name, value in attrs}
        if tag == "base" and not self.base:
            self.base = values.get("href", "")
        elif tag == "link" and values.get("href"):
            kind = values.get("type", "").lower().split(";")[0].strip()
            if "alternate" in values.get("rel", "").lower().split() and kind in FEED_TYPES:
                self.links.append((values["href"], values.get("title", "")))


class FeedFinder:
    """Finds the feed to watch for a URL someone typed. ``budget``: seconds for the whole search once the
    page turned out not to be a feed."""

    def __init__(self, reader: FeedReader, *, budget: float = 20.0) -> None:
        self.reader = reader
        self.budget = budget

    async def find(self, url: str) -> FoundFeed:
        """The URL itself when it is a feed; else the feed its page links; else one at a usual path.

        Raises :class:`FeedError` as the reader does when the URL cannot be fetched (``retryable`` for a
        network failure or a 5xx, not for a 4xx or an address the policy refuses), the reader's
        :class:`UnsafeXmlError` for a document the bot will not parse, and :class:`NoFeedFound` when
        the page was read and no feed was found for it."""
        page = await self.reader.read(FeedState(url=url))
        if not _HTML.match(page.body[:4096]):
            try:
                parsed = await asyncio.to_thread(parse_feed, page.body, feed_url=url)
                return FoundFeed(url, parsed.title, "given")
            except UnsafeXmlError:
                raise
            except FeedError:
                pass  # not a feed: read it as a page
        try:
            async with asyncio.timeout(self.budget):
                return await self._search(url, page)
        except TimeoutError:
            raise NoFeedFound(
                f"it is a web page, not a feed, and looking for its feed took over {self.budget:g}s"
            ) from None

    async def _search(self, url: str, page: FetchResult) -> FoundFeed:
        base = page.url or url
        text = page.body[:HEAD_BYTES].decode("utf-8", errors="replace")
        links = [link for link in await asyncio.to_thread(feed_links, text, base) if link != url]
        for link in links[:MAX_LINKS]:
            if (parsed := await self._feed_at(link)) is not None:
                return FoundFeed(link, parsed.title, "link")
        parts = urlsplit(base)
        for path in USUAL_PATHS:
            candidate = f"{parts.scheme}://{parts.netloc}{path}"
            if candidate in (url, base) or candidate in links[:MAX_LINKS]:
                continue
            if (parsed := await self._feed_at(candidate)) is not None:
                return FoundFeed(candidate, parsed.title, "path")
        paths = ", ".join(USUAL_PATHS[:-1]) + " or " + USUAL_PATHS[-1]
        if links:
            raise NoFeedFound(
                "it is a web page, not a feed; the feed it links could not be read, and there is none at "
                + paths
            )
        raise NoFeedFound(
            f'it is a web page, not a feed, and names none (no `rel="alternate"` link to RSS, Atom or JSON '
            f"Feed); there is none at {paths} either"
        )

    async def _feed_at(self, url: str) -> ParsedFeed | None:
        try:
            result = await self.reader.read(FeedState(url=url))
            return await asyncio.to_thread(parse_feed, result.body, feed_url=url)
        except FeedError as exc:
            log.debug("feed discovery: %s is not a feed: %s", url, exc)
            return None
