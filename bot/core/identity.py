"""Article identity: the same article fetched twice, or through two links, gets the same id."""

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


def article_id(guid: str, link: str, title: str, published: datetime | None) -> str:
    """guid, else the canonical link, else a hash of title and date."""
    if guid.strip():
        return guid.strip()
    if link.strip():
        return canonical_url(link)
    stamp = published.isoformat() if published else ""
    digest = hashlib.sha256(f"{title.strip()}\0{stamp}".encode()).hexdigest()[:24]
    return f"sha256:{digest}"


def content_hash(article: Article) -> str:
    """What changes when an article is updated under the same id: its title or body."""
    return hashlib.blake2b(f"{article.title}\0{article.text}".encode(), digest_size=12).hexdigest()
