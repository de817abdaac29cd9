"""One polling pass over the feeds that are due. Every feed is fetched once per interval however many
channels want it; a failing feed backs off with jitter and is logged once until it recovers."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import random
from collections.abc import Callable

from bot.errors import FeedError
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import ReaderRegistry
from bot.models import Article
from bot.store.base import FeedState, Store

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class PollPolicy:
    interval: float = 900.0
    max_backoff: float = 6 * 3600.0
    concurrency: int = 20


def backoff_delay(
    failures: int, interval: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential from the feed's interval, capped, with ±20 % jitter so failing feeds spread out."""
    base = min(cap, interval * 2.0 ** max(0, failures - 1))
    return base * (0.8 + 0.4 * rand())


class FeedPoller:
    def __init__(
        self,
        store: Store,
        readers: ReaderRegistry,
        policy: PollPolicy,
        *,
        parse: Callable[..., ParsedFeed] = parse_feed,
    ) -> None:
        self.store = store
        self.readers = readers
        self.policy = policy
        self._parse = parse
        self._gate = asyncio.Semaphore(policy.concurrency)

    async def poll_due(self, now: float) -> list[Article]:
        """Fetch every due feed concurrently; return their articles (not yet deduplicated)."""
        due = [f for f in await self.store.list_feeds() if f.next_fetch_at <= now]
        batches = await asyncio.gather(*(self._poll_one(feed, now) for feed in due))
        return [article for batch in batches for article in batch]

    async def next_due(self) -> float | None:
        feeds = await self.store.list_feeds()
        return min((f.next_fetch_at for f in feeds), default=None)

    async def _poll_one(self, feed: FeedState, now: float) -> list[Article]:
        interval = feed.interval or self.policy.interval
        async with self._gate:
            try:
                reader = self.readers.for_url(feed.url)
                result = await reader.read(feed)
                if result.not_modified:
                    await self._succeeded(
                        feed, now, interval, etag=result.etag, last_modified=result.last_modified
                    )
                    return []
                digest = hashlib.blake2b(result.body, digest_size=16).hexdigest()
                if digest == feed.body_hash:
                    await self._succeeded(
                        feed, now, interval, etag=result.etag, last_modified=result.last_modified
                    )
                    return []
                parsed = await asyncio.to_thread(
                    self._parse, result.body, feed_url=feed.url, source=feed.name
                )
            except FeedError as exc:
                await self._failed(feed, now, interval, exc)
                return []
        for warning in parsed.warnings:
            log.debug("feed %s: %s", feed.url, warning)
        await self._succeeded(
            feed, now, interval, etag=result.etag, last_modified=result.last_modified, body_hash=digest
        )
        if result.moved_to:
            log.info("feed %s moved permanently to %s", feed.url, result.moved_to)
        return parsed.articles

    async def _succeeded(
        self,
        feed: FeedState,
        now: float,
        interval: float,
        *,
        etag: str,
        last_modified: str,
        body_hash: str | None = None,
    ) -> None:
        if feed.failures:
            log.info("feed %s recovered after %d failed attempts", feed.url, feed.failures)
        await self.store.save_feed_state(
            dataclasses.replace(
                feed,
                etag=etag,
                last_modified=last_modified,
                body_hash=feed.body_hash if body_hash is None else body_hash,
                next_fetch_at=now + interval,
                failures=0,
                last_error="",
                last_success_at=now,
            )
        )

    async def _failed(self, feed: FeedState, now: float, interval: float, exc: FeedError) -> None:
        failures = feed.failures + 1
        delay = backoff_delay(failures, interval, self.policy.max_backoff)
        if exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        if not exc.retryable:
            delay = max(delay, self.policy.max_backoff)
        if failures == 1:
            log.warning("feed %s failed: %s; retrying in %.0fs", feed.url, exc, delay)
        else:
            log.debug("feed %s failed again (%d): %s", feed.url, failures, exc)
        await self.store.save_feed_state(
            dataclasses.replace(feed, failures=failures, last_error=str(exc), next_fetch_at=now + delay)
        )
