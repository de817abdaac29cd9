"""Feed bytes to articles. CPU-bound: callers run :func:`parse_feed` in a worker thread."""

from __future__ import annotations

import calendar
import dataclasses
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.core.errors import FeedError
from bot.core.identity import article_id, feed_scoped_id, is_web_url, repeated_guid_id
from bot.core.models import Article
from bot.ingest.clean import clean_article, html_to_text
from bot.ingest.jsonfeed import parse_json_feed
from bot.ingest.safety import check_xml

log = logging.getLogger(__name__)

_TAG = re.compile(r"<[a-zA-Z/!]")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    articles: list[Article]
    warnings: list[str] = field(default_factory=list)
    version: str = ""
    ttl_minutes: int | None = None
    """RSS <ttl>: how long the publisher says the feed may be cached."""
    repeated_guids: str = ""
    """When items of the document share GUIDs: what to tell the operator (it is among ``warnings`` too).
    A feed repeats them on every fetch, so the poller tells it once per feed."""


def parse_feed(body: bytes, *, feed_url: str = "", source: str = "") -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed. Raises :class:`FeedError` (not retryable)
    when the bytes are not a feed at all; a feed with recoverable problems parses with warnings.

    ``feed_url`` is the feed as the bot stores it: item GUIDs are scoped to it (:mod:`bot.core.identity`).
    Items of one document that share a GUID are told apart by their link or title, never merged, and
    said in ``repeated_guids``."""
    if body.lstrip()[:1] == b"{":
        title, entries = parse_json_feed(body)
        return _articles(title, entries, [], "json", feed_url=feed_url, source=source)
    check_xml(body)
    try:
        parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=True, response_headers={})
    except Exception as exc:  # feedparser promises not to raise, but a parser bug must not stop a cycle
        raise FeedError(f"feed parser failed: {exc}", retryable=False) from exc
    warnings = []
    if parsed.get("bozo"):
        warnings.append(f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}")
    if not parsed.get("version") and not parsed.entries:
        reason = warnings[0] if warnings else "no RSS, Atom or JSON Feed structure found"
        raise FeedError(f"not a feed: {reason}", retryable=False)
    title = _text(parsed.feed.get("title", ""), parsed.feed.get("title_detail"))
    feed = _articles(
        title, parsed.entries, warnings, str(parsed.get("version", "")), feed_url=feed_url, source=source
    )
    ttl = str(parsed.feed.get("ttl", "")).strip()
    return dataclasses.replace(feed, ttl_minutes=int(ttl)) if ttl.isdigit() else feed


def _articles(
    title: str, entries: list[Any], warnings: list[str], version: str, *, feed_url: str, source: str
) -> ParsedFeed:
    name = source or title or feed_url
    guids = Counter(g for g in (_guid(entry) for entry in entries) if g)
    repeated = {g for g, n in guids.items() if n > 1}
    articles = []
    for index, entry in enumerate(entries):
        try:
            articles.append(_article(entry, feed_url=feed_url, source=name, repeated=repeated))
        except (KeyError, TypeError, ValueError) as exc:
            warnings.append(f"entry {index}: skipped: {exc}")
    message = ""
    if repeated:
        message = (
            f"{sum(guids[g] for g in repeated)} items share {len(repeated)} GUID(s) with another item "
            f"(such as {sorted(repeated)[0]!r}); told apart by their link or title"
        )
        warnings.append(message)
    return ParsedFeed(
        title=title, articles=articles, warnings=warnings, version=version, repeated_guids=message
    )


def _guid(entry: Any) -> str:
    return str(entry.get("id", "") or "").strip()


def _article(entry: Any, *, feed_url: str, source: str, repeated: set[str]) -> Article:
    title = _text(entry.get("title", ""), entry.get("title_detail"))
    published = _datetime(entry.get("published_parsed") or entry.get("updated_parsed"))
    link = str(entry.get("link", "") or "")
    if entry.get("guidislink") and not is_web_url(link):
        link = ""  # feedparser's copy of a GUID such as 12345, for an item without a link: no link at all
    body = _best_body(entry)
    guid = _guid(entry)
    identity = article_id(guid, link, title, published, feed_url=feed_url)
    if guid in repeated and identity == feed_scoped_id(feed_url, guid):
        identity = repeated_guid_id(identity, link, title, published)
    return Article(
        id=identity,
        title=title,
        text=clean_article(title, body, source=source),
        url=link,
        source=source,
        feed_url=feed_url,
        published=published,
        image_url=_image(entry),
    )


def _best_body(entry: Any) -> str:
    """The fullest body the entry carries: content:encoded / Atom content, else the summary."""
    candidates = [str(c.get("value", "")) for c in entry.get("content", []) or []]
    candidates.append(str(entry.get("summary", "") or ""))
    return max(candidates, key=len)


def _text(value: object, detail: object = None) -> str:
    """Title text: markup converted only when the feed says (or the text looks like) it is HTML; a
    plain-text title such as "vector<int> in C++" is kept as it is."""
    text = str(value or "")
    plain = isinstance(detail, dict) and detail.get("type") == "text/plain"
    if plain or not _TAG.search(text):
        return text.strip()
    return html_to_text(text).replace("\n\n", " ").strip()


def _datetime(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError):
        return None


def _image(entry: Any) -> str:
    for key in ("media_content", "media_thumbnail"):
        for media in entry.get(key, []) or []:
            url = media.get("url", "")
            if url and (media.get("medium", "image") == "image" or "image" in media.get("type", "image")):
                return str(url)
    for enclosure in entry.get("enclosures", []) or []:
        if str(enclosure.get("type", "")).startswith("image/") and enclosure.get("href"):
            return str(enclosure["href"])
    image = entry.get("image")
    if isinstance(image, dict) and image.get("href"):
        return str(image["href"])
    return ""
