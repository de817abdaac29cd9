"""Article identity: the same article fetched twice, or through two links, gets the same id.

An id has one of four forms, told apart by their shape:

- ``<feed scope>#<key>``: a feed item's GUID (RSS ``<guid>``, Atom ``<id>``, JSON Feed ``id``) within its
  feed (:func:`feed_scoped_id`), since an opaque GUID such as ``12345`` means something only in the feed
  that gave it; likewise an item without GUID whose link is no web URL (a relative ``/2026/a``). WebSub
  deliveries are parsed under the URL the feed is polled at, so they get the ids polled items get. Items
  of one feed document that share a GUID have ``~<8 hex>`` appended (:func:`repeated_guid_id`);
- a canonical web link (:func:`canonical_url`): an item without GUID, or whose GUID is its own link (a
  permalink GUID names the page as the link does). The same link from two feeds is the same article, so
  this form is global;
- ``sha256:<24 hex>``: an item with neither, hashed from its title and date; global too;
- ``push:<id>``: an article pushed to ``POST /articles`` under the id its sender gave (:func:`pushed_id`);
  scoped to the push intake, so a sender's ids never meet a feed's.

A feed scope (:func:`feed_scope`) holds no ``#`` and a canonical link no fragment, so the forms do not
collide. Store migration 007 gave the rows of older stores (whose ids were the bare GUID, global) these ids.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.core.models import Article

_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "cmpid",
        "_ga",
        "_gl",
        "ref_src",
        "smid",
        "cid",
    }
)


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, fragment and tracking parameters (``utm_*``,
    ``fbclid`` and the like) removed; everything else kept in order."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and (scheme, port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


PUSH_SCOPE = "push:"


def is_web_url(url: str) -> bool:
    """An absolute ``http`` or ``https`` URL with a host: a link that names one page wherever it is read."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def feed_scope(feed_url: str) -> str:
    """The feed a GUID belongs to, as its URL is configured: scheme and host lower-cased, default port,
    user info and fragment removed. Path and query are kept as they are: unlike an article link's, a
    feed URL's query parameters (``?cid=7``) may name a different feed. A path that is no URL (a file
    feed) is kept as given, less any ``#...``."""
    url = feed_url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url.split("#", 1)[0]
    if not parts.netloc:
        return urlunsplit((parts.scheme, "", parts.path, parts.query, ""))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port and (scheme, port) not in {("http", 80), ("https", 443)}:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def feed_scoped_id(feed_url: str, key: str) -> str:
    """The id of an item known by ``key`` (its GUID) only within its feed: ``<feed scope>#<key>``."""
    return f"{feed_scope(feed_url)}#{key.strip()}"


def article_id(guid: str, link: str, title: str, published: datetime | None, *, feed_url: str) -> str:
    """A feed item's id: its GUID within ``feed_url`` (:func:`feed_scoped_id`); its canonical link when it
    has no GUID, or when its GUID is that link; else a hash of title and date. A link that is no web URL
    names the item only within its feed, like a GUID."""
    guid = guid.strip()
    canonical = canonical_url(link) if link.strip() else ""
    web = is_web_url(canonical)
    if guid and not (web and canonical_url(guid) == canonical):
        return feed_scoped_id(feed_url, guid)
    if canonical:
        return canonical if web else feed_scoped_id(feed_url, canonical)
    stamp = published.isoformat() if published else ""
    digest = hashlib.sha256(f"{title.strip()}\0{stamp}".encode()).hexdigest()[:24]
    return f"sha256:{digest}"


def repeated_guid_id(scoped: str, link: str, title: str, published: datetime | None) -> str:
    """The id of one of several items of a feed document that share a GUID (``scoped``, from
    :func:`feed_scoped_id`): told apart by a short hash of the canonical link, else of title and date.
    The same for the same item on every fetch; items with the same link stay one article."""
    if link.strip():
        basis = canonical_url(link)
    else:
        basis = f"{title.strip()}\0{published.isoformat() if published else ''}"
    return f"{scoped}~{hashlib.sha256(basis.encode()).hexdigest()[:8]}"


def pushed_id(sender_id: str) -> str:
    """The id of an article pushed to ``POST /articles`` with ``id`` = ``sender_id``: ``push:<id>``."""
    return PUSH_SCOPE + sender_id.strip()


def content_hash(article: Article) -> str:
    """What changes when an article is updated under the same id: its title or body."""
    return hashlib.blake2b(f"{article.title}\0{article.text}".encode(), digest_size=12).hexdigest()
