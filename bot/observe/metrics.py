"""The bot's Prometheus metrics (``GET /metrics``), in a registry of their own: each :class:`Metrics` is
one bot's, so two apps in one process (the tests) never add to each other's counts.

Counts come from the reports the stages already make (:class:`PollResult`, :class:`CycleReport`) and
from two small hooks: the pipeline says what it queued, the delivery worker what it sent and how long
each alert waited. The outbox gauges are read from the store at scrape time."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client import Counter as CounterMetric

from bot.core.errors import StoreError
from bot.core.models import FeedState
from bot.ingest.fetch import FeedReader, FetchResult
from bot.ingest.poller import PollResult
from bot.processing.pipeline import CycleReport
from bot.store.outbox import OutboxStore

log = logging.getLogger(__name__)

FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0)
"""Seconds from queued to sent: milliseconds when all is well, up to a day through mutes, digests and
a platform's outage."""


class Metrics:
    """Every metric of one bot, and its registry. The methods record; :meth:`scrape` renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.fetches = CounterMetric(
            "newsbot_feed_fetches",
            "Feed fetches by outcome: ok (new content), unchanged, failed",
            ["outcome"],
            registry=r,
        )
        self.fetch_seconds = Histogram(
            "newsbot_feed_fetch_seconds",
            "How long one feed fetch took, failures included",
            buckets=FETCH_BUCKETS,
            registry=r,
        )
        self.articles_new = CounterMetric(
            "newsbot_articles_new", "Articles seen for the first time", registry=r
        )
        self.articles_updated = CounterMetric(
            "newsbot_articles_updated", "Known articles whose title or text changed", registry=r
        )
        self.articles_matched = CounterMetric(
            "newsbot_articles_matched", "New articles that matched at least one subscription", registry=r
        )
        self.articles_failed = CounterMetric(
            "newsbot_articles_failed",
            "New articles a bug kept from being processed (see the log)",
            registry=r,
        )
        self.queued = CounterMetric(
            "newsbot_alerts_queued",
            "Alerts put in the outbox (a later report of a story already queued for a channel joins it)",
            ["platform"],
            registry=r,
        )
        self.sent = CounterMetric("newsbot_alerts_sent", "Alerts posted", ["platform"], registry=r)
        self.retried = CounterMetric(
            "newsbot_alerts_retried", "Sends that failed and will be tried again", ["platform"], registry=r
        )
        self.failed = CounterMetric(
            "newsbot_alerts_failed",
            "Alerts given up on (kept in the outbox with their error)",
            ["platform"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "newsbot_alert_delivery_seconds",
            "Seconds from an alert being queued to being posted (mutes and digests hold alerts on purpose)",
            ["platform"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.outbox_pending = Gauge(
            "newsbot_outbox_pending", "Alerts waiting in the outbox, whatever they wait for", registry=r
        )
        self.outbox_oldest = Gauge(
            "newsbot_outbox_oldest_due_age_seconds",
            "How long the oldest alert that is due now has waited since it was queued (0: none is due)",
            registry=r,
        )
        self.store_up = Gauge(
            "newsbot_store_up", "1 when the store answered at scrape time, else 0", registry=r
        )
        self.last_cycle = Gauge(
            "newsbot_last_cycle_timestamp_seconds",
            "When the bot's last poll cycle completed (Unix time)",
            registry=r,
        )

    def polled(self, result: PollResult) -> None:
        self.fetches.labels("ok").inc(result.fetched)
        self.fetches.labels("unchanged").inc(result.unchanged)
        self.fetches.labels("failed").inc(result.failed)

    def processed(self, report: CycleReport) -> None:
        self.articles_new.inc(report.new)
        self.articles_updated.inc(report.updated)
        self.articles_matched.inc(report.matched)
        self.articles_failed.inc(report.failed)

    def cycle_completed(self, at: float) -> None:
        self.last_cycle.set(at)

    def alerts_queued(self, platforms: Sequence[str], queued: int) -> None:
        """``queued`` of the alerts for ``platforms`` (one entry an alert) were new in the outbox."""
        for platform, count in share_by_platform(platforms, queued).items():
            self.queued.labels(platform).inc(count)

    def alerts_sent(self, platform: str, waited: Sequence[float]) -> None:
        self.sent.labels(platform).inc(len(waited))
        latency = self.delivery_seconds.labels(platform)
        for seconds in waited:
            latency.observe(max(0.0, seconds))

    def alerts_unsent(self, platform: str, outcome: str, count: int) -> None:
        """``outcome``: ``retry`` or ``failed``, as the delivery worker counts them."""
        (self.retried if outcome == "retry" else self.failed).labels(platform).inc(count)

    def timed(self, reader: FeedReader, clock: Callable[[], float] = time.perf_counter) -> FeedReader:
        """``reader``, each read timed into the fetch latency histogram."""
        return TimedReader(reader, self.fetch_seconds, clock)

    async def scrape(self, store: OutboxStore, now: float) -> tuple[bytes, str]:
        """The exposition (body, content type), with the outbox gauges read from ``store`` first. A store
        that fails leaves them NaN and ``newsbot_store_up`` 0: the other metrics are still served."""
        try:
            depth = await store.outbox_depth(now)
        except StoreError as exc:
            log.debug("metrics: the outbox could not be read: %s", exc)
            self.store_up.set(0)
            self.outbox_pending.set(math.nan)
            self.outbox_oldest.set(math.nan)
        else:
            self.store_up.set(1)
            self.outbox_pending.set(depth.pending)
            self.outbox_oldest.set(
                0.0 if depth.oldest_due_at is None else max(0.0, now - depth.oldest_due_at)
            )
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def share_by_platform(platforms: Sequence[str], queued: int) -> Counter[str]:
    """How many of ``queued`` new outbox rows each platform had. The store counts only the total, so
    when some alerts of a batch joined one already queued (a second outlet's report), and the batch
    spans several platforms, the new ones are shared out in proportion: exact per platform otherwise."""
    counts = Counter(platforms)
    total = sum(counts.values())
    if queued >= total:
        return counts
    shares = {platform: n * queued / total for platform, n in counts.items()}
    result = Counter({platform: math.floor(share) for platform, share in shares.items()})
    by_remainder = sorted(shares, key=lambda p: (result[p] - shares[p], p))
    for platform in by_remainder[: queued - sum(result.values())]:
        result[platform] += 1
    return +result


class TimedReader:
    """A :class:`FeedReader` whose reads are timed (the poller never knows)."""

    def __init__(self, reader: FeedReader, histogram: Histogram, clock: Callable[[], float]) -> None:
        self.reader = reader
        self.histogram = histogram
        self.clock = clock

    async def read(self, feed: FeedState) -> FetchResult:
        started = self.clock()
        try:
            return await self.reader.read(feed)
        finally:
            self.histogram.observe(self.clock() - started)
