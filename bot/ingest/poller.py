"""One polling pass over the feeds that are due. Every feed is fetched once per interval however many
channels want it; a failing feed backs off with jitter, is logged once until it recovers, and its
channels are told (once, then again when it is paused) rather than left guessing."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence

from bot.core.backoff import Backoff
from bot.core.errors import FeedError
from bot.core.models import Article, FeedState
from bot.ingest.feeds import ParsedFeed, parse_feed
from bot.ingest.fetch import FetchResult, ReaderRegistry
from bot.ingest.policy import HEALTHY, PAUSED, health_step, next_interval, quiet_ids
from bot.store.base import Store
from bot.store.work import LEASE

log = logging.getLogger(__name__)

POLL_BATCH = 500


@dataclasses.dataclass(frozen=True, slots=True)
class PollPolicy:
    interval: float = 900.0
    min_interval: float = 300.0
    max_interval: float = 6 * 3600.0
    max_backoff: float = 6 * 3600.0
    concurrency: int = 20
    max_age: float = 7 * 86400.0
    notify_after: float = 6 * 3600.0
    pause_after: float = 3 * 86400.0


@dataclasses.dataclass(frozen=True, slots=True)
class FeedNotice:
    """Something the channels that added a feed should be told about it."""

    feed_url: str
    feed_name: str
    message: str


@dataclasses.dataclass(slots=True)
class PollResult:
    articles: list[Article] = dataclasses.field(default_factory=list)
    quiet: set[str] = dataclasses.field(default_factory=set)
    """Ids to record as seen without alerting (a new feed's history, items past max_age)."""
    notices: list[FeedNotice] = dataclasses.field(default_factory=list)
    fetched: int = 0
    unchanged: int = 0
    failed: int = 0
    settle: list[FeedState] = dataclasses.field(default_factory=list)
    """Feed states to save once the articles are recorded (:meth:`FeedPoller.settle`): saved before, a
    crash in between would leave the new items behind a body hash that says they were seen."""
    moves: list[tuple[str, str]] = dataclasses.field(default_factory=list)


class FeedPoller:
    def __init__(
        self,
        store: Store,
        readers: ReaderRegistry,
        policy: PollPolicy,
        *,
        parse: Callable[..., ParsedFeed] = parse_feed,
        owner: str = "poller",
        lease: float = LEASE,
    ) -> None:
        self.store = store
        self.owner = owner
        """Who claims the feeds it polls (:class:`bot.store.work.WorkStore`): one worker of several."""
        self.lease = lease
        self.readers = readers
        self.policy = policy
        self._parse = parse
        self._gate = asyncio.Semaphore(policy.concurrency)
        self._told_repeats: set[str] = set()
        """Feeds whose repeated GUIDs were logged: a feed repeats them on every fetch, it is told once."""

    async def poll_batches(
        self, now: float, size: int = POLL_BATCH, *, every: bool = False
    ) -> AsyncIterator[PollResult]:
        """The due feeds (``every``: every unpaused feed, due or not) a batch at a time, so memory is
        bounded by the batch, not by the feed count: the caller processes each batch's articles before
        the next is fetched. ``now`` is the real time either way: item ages and the next fetch are
        reckoned from it. Each batch is claimed first, so that workers sharing the store never fetch
        one feed twice; saving a feed's state releases it."""
        if every:
            await self.store.make_feeds_due(now)
        polled: set[str] = set()
        while feeds := [
            f
            for f in await self.store.claim_feeds(self.owner, now, size, now + self.lease)
            if f.url not in polled
        ]:
            polled.update(f.url for f in feeds)
            result = await self.fetch(feeds, now)
            yield result
            await self.settle(result)  # the caller has recorded the batch: not reached if it failed

    async def due_feeds(self, now: float) -> list[FeedState]:
        """Every feed due at ``now``, claimed in one go."""
        return await self.store.claim_feeds(self.owner, now, 1_000_000, now + self.lease)

    async def poll(self, feeds: Sequence[FeedState], now: float) -> PollResult:
        """:meth:`fetch`, then :meth:`settle` at once (for a caller that keeps the articles elsewhere)."""
        result = await self.fetch(feeds, now)
        await self.settle(result)
        return result

    async def settle(self, result: PollResult) -> None:
        """Save the states of the feeds whose new items are recorded, releasing their claims."""
        for state in result.settle:
            await self.store.save_feed_state(state)
        for old, new in result.moves:
            log.info("feed %s moved permanently to %s; following it", old, new)
            await self.store.move_feed(old, new)

    async def fetch(self, feeds: Sequence[FeedState], now: float) -> PollResult:
        """Fetch the given feeds concurrently (within the concurrency limit). A feed that failed or did
        not change is saved at once; one with items waits in :attr:`PollResult.settle`."""
        result = PollResult()
        for outcome in await asyncio.gather(*(self._poll_one(feed, now) for feed in feeds)):
            result.articles.extend(outcome.articles)
            result.quiet |= outcome.quiet
            result.notices.extend(outcome.notices)
            result.fetched += outcome.fetched
            result.unchanged += outcome.unchanged
            result.failed += outcome.failed
            result.settle.extend(outcome.settle)
            result.moves.extend(outcome.moves)
        return result

    async def next_due(self, now: float) -> float | None:
        return await self.store.next_feed_due(self.owner, now)

    async def _poll_one(self, feed: FeedState, now: float) -> PollResult:
        interval = feed.interval or self.policy.interval
        async with self._gate:
            try:
                fetched = await self.readers.for_url(feed.url).read(feed)
                digest = (
                    "" if fetched.not_modified else hashlib.blake2b(fetched.body, digest_size=16).hexdigest()
                )
                if fetched.not_modified or digest == feed.body_hash:
                    state, notices = self._succeeded(feed, now, interval, fetched, None, feed.body_hash)
                    await self.store.save_feed_state(state)
                    return PollResult(notices=notices, unchanged=1, moves=_moved(feed, fetched))
                # Under the URL it is moving to, if it is: its items' ids are scoped to the feed's URL.
                parsed = await asyncio.to_thread(
                    self._parse, fetched.body, feed_url=fetched.moved_to or feed.url, source=feed.name
                )
            except FeedError as exc:
                return PollResult(notices=await self._failed(feed, now, interval, exc), failed=1)
        for warning in parsed.warnings:
            log.debug("feed %s: %s", feed.url, warning)
        if parsed.repeated_guids and feed.url not in self._told_repeats:
            self._told_repeats.add(feed.url)
            log.warning("feed %s: %s", feed.url, parsed.repeated_guids)
        state, notices = self._succeeded(feed, now, interval, fetched, parsed, digest)
        max_age = self.policy.max_age if feed.max_age is None else feed.max_age
        quiet = quiet_ids(
            parsed.articles,
            first_fetch=feed.last_success_at is None,
            backfill=feed.backfill,
            max_age=max_age,
            now=now,
        )
        return PollResult(
            articles=parsed.articles,
            quiet=quiet,
            notices=notices,
            fetched=1,
            settle=[state],
            moves=_moved(feed, fetched),
        )

    def _succeeded(
        self,
        feed: FeedState,
        now: float,
        interval: float,
        fetched: FetchResult,
        parsed: ParsedFeed | None,
        body_hash: str,
    ) -> tuple[FeedState, list[FeedNotice]]:
        notices = []
        if feed.failures:
            log.info("feed %s recovered after %d failed attempts", feed.url, feed.failures)
            if feed.health_stage > HEALTHY:
                notices.append(FeedNotice(feed.url, feed.name, "is working again"))
        wait = next_interval(
            interval,
            max_age=fetched.max_age,
            ttl_minutes=parsed.ttl_minutes if parsed else None,
            floor=self.policy.min_interval,
            ceiling=self.policy.max_interval,
        )
        state = dataclasses.replace(
            feed,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            body_hash=body_hash,
            next_fetch_at=now + wait,
            failures=0,
            last_error="",
            last_success_at=now,
            failing_since=None,
            health_stage=HEALTHY,
        )
        return state, notices

    async def _failed(self, feed: FeedState, now: float, interval: float, exc: FeedError) -> list[FeedNotice]:
        failures = feed.failures + 1
        delay = Backoff(interval, self.policy.max_backoff).delay(failures)  # from the feed's own interval
        if exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        if not exc.retryable:
            delay = max(delay, self.policy.max_backoff)
        if failures == 1:
            log.warning("feed %s failed: %s; retrying in %.0fs", feed.url, exc, delay)
        else:
            log.debug("feed %s failed again (%d): %s", feed.url, failures, exc)
        since = feed.failing_since if feed.failing_since is not None else now
        step = health_step(
            feed.health_stage,
            now - since,
            str(exc),
            notify_after=self.policy.notify_after,
            pause_after=self.policy.pause_after,
        )
        notices = []
        if step.message:
            log.warning("feed %s %s", feed.url, step.message)
            notices.append(FeedNotice(feed.url, feed.name, step.message))
        await self.store.save_feed_state(
            dataclasses.replace(
                feed,
                failures=failures,
                last_error=str(exc),
                next_fetch_at=now + delay,
                failing_since=since,
                health_stage=step.stage,
                paused=step.stage == PAUSED,
            )
        )
        return notices


def _moved(feed: FeedState, fetched: FetchResult) -> list[tuple[str, str]]:
    return [(feed.url, fetched.moved_to)] if fetched.moved_to and fetched.moved_to != feed.url else []
