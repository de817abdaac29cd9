"""What the bot sees in one feed (``python -m bot feed PATH_OR_URL``).

The feed is read the way the poller reads it (one GET through :class:`HttpReader` on a guarded session,
with the poller's limits and address policy, or the file through :class:`FileReader`) and parsed by
:func:`parse_feed`, so each article printed is exactly what cleaning, matching and summarising would
get, and a URL the bot would refuse to poll is refused here too.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot.core.errors import FeedError, InputError
from bot.core.models import Article, FeedState
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import FileReader, HttpLimits, HttpReader
from bot.ingest.safety import UrlPolicy, guarded_session

_REMOTE = frozenset({"http", "https"})
_NOT_PRINTABLE = re.compile(r"[^\n\t -~]")


async def inspect_feed(
    location: str,
    *,
    limits: HttpLimits,
    policy: UrlPolicy | None = None,
    base_dir: Path | None = None,
    session: aiohttp.ClientSession | None = None,
) -> ParsedFeed:
    """Fetch or read ``location`` and parse it.

    Raises :class:`InputError` when a file can't be read, :class:`FeedError` with ``retryable=False``
    when the bytes are not a feed, the server refuses it (HTTP 4xx) or the bot does (an unsupported
    scheme, a private or loopback address ``policy`` does not exempt), and :class:`FeedError` with
    ``retryable=True`` when the network failed (timeout, 5xx, connection). Without ``session``, a
    guarded one is opened and closed here.
    """
    body = await read_feed(location, limits=limits, policy=policy, base_dir=base_dir, session=session)
    return await asyncio.to_thread(parse_feed, body, feed_url=location)


async def read_feed(
    location: str,
    *,
    limits: HttpLimits,
    policy: UrlPolicy | None = None,
    base_dir: Path | None = None,
    session: aiohttp.ClientSession | None = None,
) -> bytes:
    """The bytes of a feed at an http(s) URL, a ``file://`` URL or a path (relative to ``base_dir``,
    default the working directory)."""
    scheme = urlsplit(location).scheme.lower()
    state = FeedState(url=location)
    if scheme in _REMOTE:
        if not urlsplit(location).hostname:
            raise FeedError(f"no host name in the URL {location!r}", retryable=False)
        async with _session(session, policy or UrlPolicy()) as client:
            reader = HttpReader(
                client,
                timeout=limits.timeout,
                max_body_bytes=limits.max_body_bytes,
                user_agent=limits.user_agent,
                per_host=1,
            )
            return (await reader.read(state)).body
    if len(scheme) > 1 and scheme != "file":  # one letter is a Windows drive
        raise FeedError(
            f"unsupported URL scheme {scheme!r} (use http, https or a file path)", retryable=False
        )
    try:
        result = await FileReader(base_dir or Path.cwd()).read(state)
    except FeedError as exc:
        raise InputError(str(exc)) from exc
    return result.body


@asynccontextmanager
async def _session(
    session: aiohttp.ClientSession | None, policy: UrlPolicy
) -> AsyncIterator[aiohttp.ClientSession]:
    if session is not None:
        yield session
        return
    async with guarded_session(policy) as own:
        yield own


def article_record(article: Article) -> dict[str, str | None]:
    """The fields a user sees for one item; ``text`` is the cleaned body as matching sees it."""
    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "source": article.source,
        "published": article.published.isoformat() if article.published else None,
        "image_url": article.image_url,
        "text": article.text,
    }


def item_line(article: Article) -> str:
    """One JSON object on one line. Characters that could drive a terminal (controls, escape
    sequences, bidi overrides) are written as ``\\uXXXX`` escapes: the JSON decodes to the same text."""
    return terminal_safe_json(json.dumps(article_record(article), ensure_ascii=False))


def terminal_safe_json(encoded: str) -> str:
    """Escape, inside an already encoded JSON text, every non-ASCII character that is not printable.
    JSON's structure is ASCII, so such characters only occur inside strings, where an escape is
    equivalent."""
    return _NOT_PRINTABLE.sub(_escape_unless_printable, encoded)


def _escape_unless_printable(match: re.Match[str]) -> str:
    char = match.group()
    if char.isprintable():
        return char
    return json.dumps(char)[1:-1]  # ensure_ascii: \\uXXXX (a surrogate pair above the BMP)


def plain_text(message: str) -> str:
    """A warning or title for stderr: one line, no control characters."""
    return "".join(ch if ch.isprintable() else " " for ch in message)


def summary_line(location: str, parsed: ParsedFeed) -> str:
    """``LOCATION: rss20 feed "Title", 14 items`` for stderr."""
    kind = parsed.version or "unknown format"
    count = len(parsed.articles)
    title = terminal_safe_json(json.dumps(parsed.title, ensure_ascii=False))
    return f"{plain_text(location)}: {kind} feed {title}, {count} item{'' if count == 1 else 's'}"
