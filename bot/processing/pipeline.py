"""Articles in, alerts queued: dedupe -> story -> match -> summarise -> outbox.

The decisions are pure functions elsewhere; this class does the calls and the I/O around them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.errors import StoreError
from bot.core.identity import content_hash
from bot.core.models import Alert, Article
from bot.ingest.fulltext import FullText
from bot.ingest.poller import FeedNotice
from bot.processing.alerts import build_alerts, focus_terms, notice_alerts
from bot.processing.subscriptions import SubscriptionBook, match_stored
from bot.store import Processed, Store
from bot.stories import StoryDetector, encode, story_keys
from bot.summarise import Summariser

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CycleReport:
    received: int
    new: int
    matched: int
    queued: int
    updated: int = 0
    failed: int = 0
    """New articles a bug kept from being matched: recorded as seen (so one bad article is not retried
    forever) and counted here, so that a bug that fails every article shows in each cycle's report."""

    def __add__(self, other: CycleReport) -> CycleReport:
        return CycleReport(
            received=self.received + other.received,
            new=self.new + other.new,
            matched=self.matched + other.matched,
            queued=self.queued + other.queued,
            updated=self.updated + other.updated,
            failed=self.failed + other.failed,
        )


CATCH_UP_MARGIN = 30.0


class QueueMetrics(Protocol):
    """Told what each batch queued (:class:`bot.observe.metrics.Metrics`)."""

    def alerts_queued(self, platforms: Sequence[str], queued: int) -> None: ...


class Pipeline:
    def __init__(
        self,
        store: Store,
        book: SubscriptionBook,
        summariser: Summariser,
        clock: Callable[[], float] = time.time,
        *,
        full_text: FullText | None = None,
        stories: StoryDetector | None = None,
        shared: bool = False,
        metrics: QueueMetrics | None = None,
    ) -> None:
        self.store = store
        self.stories = stories or StoryDetector()
        self.book = book
        self.summariser = summariser
        self.clock = clock
        self.full_text = full_text
        self.shared = shared
        """Other workers record articles in the same store: their story entries join the window before
        each batch, so an outlet's report polled by another worker still joins its story."""
        self._caught_up: float | None = None
        self.metrics = metrics

    async def restore_stories(self) -> int:
        """Rebuild the story window from the store (at start): returns how many articles it holds."""
        now = self.clock()
        rows = await self.store.story_window(now - self.stories.index.window)
        self._caught_up = now
        return self.stories.restore(rows, now)

    async def _catch_up(self, now: float) -> None:
        """The story entries other workers recorded since the last look (with a margin for transactions
        that committed late)."""
        since = (
            now - self.stories.index.window if self._caught_up is None else self._caught_up - CATCH_UP_MARGIN
        )
        self._caught_up = now
        self.stories.restore(await self.store.story_window(since), now)

    async def process(self, articles: Sequence[Article], quiet: Collection[str] = ()) -> CycleReport:
        """Process a batch. Articles whose id is in ``quiet`` are recorded as seen but never alerted.
        A changed title or body under a known id is an update, recorded without a new alert. One bad
        article is logged and skipped; a store failure propagates (nothing of the batch is recorded,
        so it is all processed again next time)."""
        now = self.clock()
        unique = list({a.id: a for a in articles}.values())
        # Oldest first, so a channel reads its alerts in the order the news broke.
        unique.sort(key=lambda a: a.published.timestamp() if a.published else now)
        fresh = await self.store.unseen(unique)
        if self.shared and fresh:
            await self._catch_up(now)
        updated = await self.store.changed(unique)
        if updated:
            await self.store.record_updates(updated)
        feed_hashes = {a.id: content_hash(a) for a in fresh}
        if self.full_text is not None:
            loud = await self.full_text.fill([a for a in fresh if a.id not in quiet])
            by_id = {a.id: a for a in loud}
            fresh = [by_id.get(a.id, a) for a in fresh]
        processed: list[Processed] = []
        alerts: list[Alert] = []
        batch_stories: dict[str, str] = {}
        keys_of = {a.id: story_keys(a) for a in fresh}
        linked = await self.store.linked_stories(
            [k for keys in keys_of.values() for k in keys], now - self.stories.index.window
        )
        matched = failed = 0
        for article in fresh:
            try:
                keys = keys_of[article.id]
                known = next((batch_stories[k] for k in keys if k in batch_stories), None)
                if known is None:
                    known = earliest_story(keys, linked)
                story, entry = self.stories.assign(article, now, known)
                batch_stories.update(dict.fromkeys(keys, story.story_id))
                matches = [] if article.id in quiet else await match_stored(self.store, self.book, article)
                if matches:
                    matched += 1
                    summary = await self.summariser.summarise(article, focus_terms(matches))
                    alerts.extend(build_alerts(article, story.edition, matches, summary))
                processed.append(
                    Processed(
                        article,
                        story.story_id,
                        keys,
                        quiet=article.id in quiet,
                        feed_hash=feed_hashes[article.id],
                        story_entry=encode(entry),
                        story_why=story.to_json(),
                    )
                )
            except StoreError:
                raise
            except Exception:
                # Recorded as seen all the same: a bad article is logged once, not on every cycle.
                log.exception(
                    "article %s from %s could not be processed; skipped", article.id, article.feed_url
                )
                processed.append(Processed(article, article.id))
                failed += 1
        queued = await self.store.record_processed(processed, alerts, now)
        self._count_queued(alerts, queued)
        return CycleReport(
            received=len(articles),
            new=len(fresh),
            matched=matched,
            queued=queued,
            updated=len(updated),
            failed=failed,
        )

    async def notify(self, notices: Sequence[FeedNotice]) -> int:
        """Queue feed notices for the channels that added each feed."""
        now = self.clock()
        alerts = []
        for notice in notices:
            channels = await self.store.feed_channels(notice.feed_url)
            alerts.extend(notice_alerts(notice.feed_url, notice.feed_name, notice.message, channels, now))
        queued = await self.store.queue_alerts(alerts, now) if alerts else 0
        self._count_queued(alerts, queued)
        return queued

    def _count_queued(self, alerts: Sequence[Alert], queued: int) -> None:
        if self.metrics is not None and alerts:
            self.metrics.alerts_queued([alert.channel.platform for alert in alerts], queued)


def earliest_story(keys: Sequence[str], linked: Mapping[str, tuple[str, float]]) -> str | None:
    """The story the first of ``keys`` to be linked joined (:meth:`ArticleStore.linked_stories`)."""
    found = [linked[k] for k in keys if k in linked]
    return min(found, key=lambda pair: pair[1])[0] if found else None
