"""Getting a feed's bytes: over HTTP with conditional requests, or from a file on disk.

Readers are registered by URL scheme, so the poller never asks what kind of feed it holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

from bot.core.errors import FeedError
from bot.core.http import BodyTooLarge, parse_retry_after, read_capped
from bot.core.models import FeedState
from bot.ingest.policy import cache_max_age


@dataclass(frozen=True, slots=True)
class FetchResult:
    """``body`` is empty when ``not_modified``. ``moved_to`` is set after a permanent redirect."""

    body: bytes = b""
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    moved_to: str = ""
    max_age: float | None = None
    """Cache-Control max-age, seconds."""
    url: str = ""
    """Where the body came from, after any redirects (relative links in it are relative to this)."""


class FeedReader(Protocol):
    async def read(self, feed: FeedState) -> FetchResult:
        """Fetch one feed. Raises :class:`FeedError` (``retryable``, ``retry_after``) and nothing else."""
        ...


class FileReader:
    """Feeds on disk: bare paths (relative to ``base_dir``) and ``file://`` URLs. The file's mtime and
    size stand in for an ETag, so an unchanged file is not re-parsed."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def path_of(self, url: str) -> Path:
        path = Path(urlsplit(url).path) if url.startswith("file://") else Path(url).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    async def read(self, feed: FeedState) -> FetchResult:
        path = self.path_of(feed.url)
        try:
            stat = await asyncio.to_thread(path.stat)
            tag = f"{stat.st_mtime_ns:x}-{stat.st_size:x}"
            if feed.etag == tag:
                return FetchResult(not_modified=True, etag=tag)
            body = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise FeedError(f"file not found: {path}") from exc
        except OSError as exc:
            raise FeedError(f"cannot read {path}: {exc.strerror}") from exc
        return FetchResult(body=body, etag=tag)


class HttpReader:
    """One shared aiohttp session for every feed; conditional GET; a body size cap."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        timeout: float,
        max_body_bytes: int,
        user_agent: str,
        per_host: int = 2,
    ) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self.max_body_bytes = max_body_bytes
        self.user_agent = user_agent
        self.per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def read(self, feed: FeedState) -> FetchResult:
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        headers["Accept"] = "application/rss+xml, application/atom+xml, application/feed+json, */*;q=0.5"
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        host = urlsplit(feed.url).hostname or ""
        gate = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        async with gate:
            try:
                async with self.session.get(feed.url, headers=headers, timeout=self.timeout) as resp:
                    moved = _permanent_redirect(resp)
                    max_age = cache_max_age(resp.headers.get("Cache-Control"))
                    if resp.status == 304:
                        return FetchResult(
                            not_modified=True,
                            etag=feed.etag,
                            last_modified=feed.last_modified,
                            max_age=max_age,
                        )
                    if resp.status in (429, 503):
                        raise FeedError(
                            f"HTTP {resp.status}",
                            retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                        )
                    if resp.status >= 400:
                        raise FeedError(f"HTTP {resp.status}", retryable=resp.status >= 500)
                    body = await self._read_capped(resp)
                    return FetchResult(
                        body=body,
                        etag=resp.headers.get("ETag", ""),
                        last_modified=resp.headers.get("Last-Modified", ""),
                        moved_to=moved,
                        max_age=max_age,
                        url=str(resp.url),
                    )
            except TimeoutError as exc:
                raise FeedError(f"timed out after {self.timeout.total:.0f}s") from exc
            except (aiohttp.NonHttpUrlClientError, aiohttp.InvalidUrlClientError) as exc:
                # a redirect to file://, ftp:// or a malformed Location: the same next time
                raise FeedError(f"{type(exc).__name__}: {exc}", retryable=False) from exc
            except aiohttp.ClientError as exc:
                raise FeedError(f"{type(exc).__name__}: {exc}") from exc

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        try:
            return await read_capped(resp.content, resp.content_length, self.max_body_bytes)
        except BodyTooLarge as exc:
            raise FeedError(str(exc)) from exc


def _permanent_redirect(resp: aiohttp.ClientResponse) -> str:
    """The final URL when every hop was permanent (301/308); a temporary hop keeps the stored URL."""
    if resp.history and all(h.status in (301, 308) for h in resp.history):
        return str(resp.url)
    return ""


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """How long an HTTP fetch may take, how large its body may be, and what it calls itself."""

    timeout: float
    max_body_bytes: int
    user_agent: str


class ReaderRegistry:
    """Readers keyed by URL scheme; a bare path is a file."""

    def __init__(self, readers: Mapping[str, FeedReader]) -> None:
        self._readers = dict(readers)

    def for_url(self, url: str) -> FeedReader:
        scheme = urlsplit(url).scheme.lower()
        if len(scheme) <= 1:  # no scheme, or a Windows drive letter
            scheme = "file"
        try:
            return self._readers[scheme]
        except KeyError:
            raise FeedError(f"unsupported URL scheme {scheme!r}", retryable=False) from None
