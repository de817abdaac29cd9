"""Composition root: config in, a running bot out. Builds the store, sources, pipeline, delivery and
platform adapters; starts and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Collection, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.assembly import (
    build_aliases,
    build_delivery,
    build_full_text,
    build_poller,
    build_summariser,
    http_reader,
)
from bot.config import Config
from bot.core.backoff import Backoff
from bot.core.errors import NewsBotError, StoreError
from bot.core.models import Article, ChannelRef
from bot.delivery.notify import NotifierRegistry
from bot.delivery.worker import DeliveryReport
from bot.ingest.discover import FeedFinder
from bot.ingest.fetch import FileReader, ReaderRegistry
from bot.ingest.policy import quiet_ids
from bot.ingest.safety import UrlPolicy, guarded_session
from bot.ingest.websub import MemoryWebSubRegistry, WebSubError
from bot.ingest.websub_client import WebSubSubscriber
from bot.matching import build as matching_build
from bot.matching import heap
from bot.observe.health import HealthCheck, cycle_limit
from bot.observe.metrics import Metrics
from bot.platforms import PlatformAdapter, PlatformContext, load_factory
from bot.processing.follow import SubscriptionFollower
from bot.processing.heartbeat import Heartbeat
from bot.processing.pipeline import CycleReport, Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import open_store
from bot.store.base import Store
from bot.store.location import scheme, worker_name
from bot.stories import StoryDetector
from bot.summarise import Summariser
from bot.summarise.llm import close_summariser
from bot.web.server import WebServer, WebServerError, create_web_app
from bot.web.websub import WebSubCallbacks

log = logging.getLogger(__name__)

IDLE_SLEEP_MAX = 30.0
SHUTDOWN_GRACE = 5.0
MIN_IDLE = 0.05
"""Between two cycles with work due at once: enough for the event loop to serve commands and pushes."""
LOOP_ERROR_BACKOFF = Backoff(base=2.0, cap=60.0, jitter=0.0)
PRUNE_EVERY = 3600.0
"""How often old articles' text is blanked (``store.keep_text``)."""


def _report_failures(report: CycleReport, where: str) -> None:
    if report.failed:
        log.error(
            "%s: %d of %d new articles could not be processed (a bug: see the errors above); they are "
            "recorded as seen and will not alert",
            where,
            report.failed,
            report.new,
        )


@dataclass(frozen=True, slots=True)
class CycleResult:
    ingest: CycleReport
    delivery: DeliveryReport


class App:
    def __init__(
        self,
        config: Config,
        store: Store,
        session: aiohttp.ClientSession,
        adapters: list[PlatformAdapter],
        book: SubscriptionBook,
        summariser: Summariser,
        wake: asyncio.Event | None = None,
        worker: str = "",
    ) -> None:
        self.config = config
        self.wake = wake or asyncio.Event()
        """Set when there is work now (a pushed article queued alerts, a command added a feed or ended a
        mute): the loop stops idling at once."""
        self.store = store
        self.worker = worker or worker_name(config.store_location())
        """This worker's name on its claims (:mod:`bot.store.work`)."""
        self.session = session
        self.adapters = adapters
        self.book = book
        self.notifiers = NotifierRegistry()
        for adapter in adapters:
            self.notifiers.register(adapter.notifier)
        self.metrics = Metrics()
        self.health = HealthCheck(store, adapters, cycle_limit(config.polling.interval), time.time())
        self._pruned_at = 0.0
        http = self.metrics.timed(http_reader(config, session, timeout=config.polling.timeout))
        files = self.metrics.timed(FileReader(config.resolve(".")))
        readers = ReaderRegistry({"file": files, "http": http, "https": http})
        self.poller = build_poller(config, store, readers, self.worker)
        self.pipeline = Pipeline(
            store,
            book,
            summariser,
            full_text=build_full_text(config, session),
            stories=StoryDetector(config.stories.window, config.stories.join),
            shared=scheme(config.store_location()) != "sqlite",
            metrics=self.metrics,
        )
        self.delivery = build_delivery(config, store, self.notifiers, self.worker, self.metrics)
        self._processing = asyncio.Lock()
        self.websub_registry = MemoryWebSubRegistry()
        self.websub: WebSubSubscriber | None = None
        self.web: WebServer | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.follower = SubscriptionFollower(store, book)
        self.heartbeat = Heartbeat(store, self.worker, config.store.lease)

    @classmethod
    async def build(cls, config: Config) -> App:
        """The parts, from the config. Whatever was opened before a step fails (the store, the LLM
        summariser's session) is closed again before the error goes on."""
        policy = UrlPolicy(config.safety.allow_hosts)  # checked when the config was loaded
        async with contextlib.AsyncExitStack() as opened:
            summariser = build_summariser(config.summary, None, os.environ)
            opened.push_async_callback(close_summariser, summariser)
            store = await open_store(config.store_location())
            opened.push_async_callback(store.close)
            book = SubscriptionBook(build_aliases(config))
            wake = asyncio.Event()
            session = guarded_session(policy)
            opened.push_async_callback(session.close)
            finder = FeedFinder(http_reader(config, session, timeout=min(config.polling.timeout, 10.0)))
            worker = worker_name(config.store_location())
            context = PlatformContext(
                store,
                book,
                policy.check_url,
                config.web.enabled,
                os.environ,
                wake.set,
                finder.find,
                worker=worker,
                lease=config.store.lease,
            )
            enabled = config.platforms.enabled()
            adapters = [
                load_factory(section)(section, context)
                for name, section in config.platforms.sections()
                if name in enabled
            ]
            app = cls(config, store, session, adapters, book, summariser, wake, worker)
            opened.pop_all()  # the app owns them now: App.close releases them
        try:
            await app._sync_config()
        except BaseException:
            await app.close()
            raise
        return app

    async def _sync_config(self) -> None:
        """Feeds and subscriptions declared in the config join those added from chat."""
        for feed in self.config.feeds:
            await self.store.upsert_feed(
                feed.url, feed.name, feed.interval, backfill=feed.backfill, max_age=feed.max_age
            )
        for declared in self.config.subscriptions:
            query = self.book.parse(declared.query)
            channel = ChannelRef(platform=declared.platform, channel_id=declared.channel)
            await self.store.add_subscription(channel, query.canonical, declared.query, created_by="config")
        await self.follower.start()
        self.book.load(await self.store.subscription_keys())
        heap.settle()
        log.info(
            "loaded %d feeds and %d subscriptions; matching %s",
            len(await self.store.list_feeds()),
            len(self.book),
            matching_build.describe(),
        )
        restored = await self.pipeline.restore_stories()
        log.info("story window: %d articles of the last %gh", restored, self.config.stories.window / 3600)
        if stale := matching_build.stale():
            log.warning("compiled matching is older than its source (%s): run `make build`", ", ".join(stale))

    async def intake(self, articles: Sequence[Article]) -> int:
        """Articles pushed to POST /articles, through the same pipeline as polled ones (one batch at a
        time, polled or pushed). Returns how many were new."""
        return await self._take(articles, (), "pushed articles")

    async def websub_intake(self, articles: Sequence[Article]) -> int:
        """A hub's push: items past the polling max age stay quiet, as they would if polled (a hub may
        push the whole feed)."""
        quiet = quiet_ids(
            articles, first_fetch=False, backfill=0, max_age=self.config.polling.max_age, now=time.time()
        )
        return await self._take(articles, quiet, "websub push")

    async def _take(self, articles: Sequence[Article], quiet: Collection[str], where: str) -> int:
        """Articles that arrived by themselves: processed between two polled batches, and the loop
        woken when they queued alerts, so they go out now rather than at the next idle tick."""
        async with self._processing:
            report = await self.pipeline.process(articles, quiet)
        self.metrics.processed(report)
        _report_failures(report, where)
        if report.queued:
            self.wake.set()
        return report.new

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def start(self) -> None:
        self._spawn(self.follower.run())
        self._spawn(self.heartbeat.run())
        for adapter in self.adapters:
            await adapter.start()
        web_config = self.config.web
        if not web_config.enabled:
            return
        callbacks = None
        if web_config.public_url:
            callbacks = WebSubCallbacks(self.websub_registry, self.websub_intake)
            self.websub = WebSubSubscriber(
                self.session,
                self.websub_registry,
                public_url=web_config.public_url,
                timeout=self.config.polling.timeout,
                max_body_bytes=self.config.polling.max_body_bytes,
                user_agent=self.config.polling.user_agent,
            )
        secret = os.environ.get(web_config.webhook_secret_env, "")
        if not secret:
            log.warning(
                "push intake is off (POST /articles answers 403): %s is not set",
                web_config.webhook_secret_env,
            )
        app = create_web_app(
            intake=self.intake,
            secret=secret,
            max_body_bytes=web_config.max_body_bytes,
            websub=callbacks,
            routes=[route for adapter in self.adapters for route in adapter.routes],
            health=lambda: self.health.check(time.time()),
            metrics=lambda: self.metrics.scrape(self.store, time.time()),
        )
        self.web = WebServer(app)
        try:
            await self.web.start(web_config.host, web_config.port)
        except WebServerError as exc:
            raise WebServerError(f"{exc} (web.host, web.port; web.enabled: false turns it off)") from exc
        if self.websub is not None:
            self._spawn(self._subscribe_all(self.websub))

    async def _subscribe_all(self, subscriber: WebSubSubscriber) -> None:
        """Subscribe at the hub of every http(s) feed that advertises one; in the background, since
        discovery fetches each feed."""
        for feed in await self.store.list_feeds():
            if feed.paused or not feed.url.startswith(("http://", "https://")):
                continue
            try:
                await subscriber.subscribe_feed(feed.url, name=feed.name)
            except WebSubError as exc:
                log.warning("websub: %s", exc)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self.web is not None:
            await self.web.stop()
        for adapter in reversed(self.adapters):
            with contextlib.suppress(NewsBotError):
                await adapter.stop()
        await close_summariser(self.pipeline.summariser)
        await self.session.close()
        try:
            await self.store.release(self.worker)  # its feeds and channels go to the other workers now
        except StoreError as exc:
            log.warning(
                "could not release this worker's claims (%s); they run out in %gs",
                exc,
                self.config.store.lease,
            )
        await self.store.close()

    async def run_cycle(self, *, force: bool = False) -> CycleResult:
        """Poll (every feed when ``force``, else the due ones), process, deliver. ``force`` chooses the
        feeds, never the clock: ages and next fetch times are reckoned from the real time."""
        now = time.time()
        totals = CycleReport(received=0, new=0, matched=0, queued=0)
        async for polled in self.poller.poll_batches(now, every=force):
            self.metrics.polled(polled)
            async with self._processing:
                report = await self.pipeline.process(polled.articles, polled.quiet)
            await self.pipeline.notify(polled.notices)
            totals = totals + report
        report = totals
        if self.websub is not None:
            await self.websub.renew_due()
        delivered = await self.delivery.deliver_due()
        await self._prune(now)
        done = time.time()
        self.metrics.processed(report)
        self.metrics.cycle_completed(done)
        self.health.cycle_completed(done, delivered.sent)
        log.info(
            "cycle: %d items, %d new, %d not processed, %d matched, %d alerts queued, %d sent, "
            "%d to retry, %d given up",
            report.received,
            report.new,
            report.failed,
            report.matched,
            report.queued,
            delivered.sent,
            delivered.retrying,
            delivered.failed,
        )
        _report_failures(report, "cycle")
        return CycleResult(report, delivered)

    async def _prune(self, now: float) -> None:
        """Blank the text of articles older than ``store.keep_text``, at most once an hour."""
        keep = self.config.store.keep_text
        if not keep or now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        if pruned := await self.store.prune_text(now - keep):
            log.info(
                "blanked the text of %d articles seen over %gd ago (store.keep_text)", pruned, keep / 86400
            )

    async def run_until_stopped(self, stop: asyncio.Event) -> None:
        """:meth:`run_forever`, and when ``stop`` is set, at most :data:`SHUTDOWN_GRACE` seconds for the
        step in flight (a send, a fetch) before the cycle is cancelled: a backlog of any size never
        delays a SIGTERM. Whatever was not sent goes at the next start (an attempt in flight is counted
        already, so that resend looks for the first post)."""
        running = asyncio.create_task(self.run_forever(stop))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if running.done():
            running.result()
            return
        try:
            await asyncio.wait_for(running, SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("stopped in the middle of a cycle; what it had not sent goes at the next start")

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Cycle until ``stop`` is set. A store failure, or a bug that escapes a cycle, is logged and
        retried with backoff; it never ends the loop (a bot that exits on it would crash-loop on the
        same queued work)."""
        failures = 0
        while not stop.is_set():
            try:
                await self.run_cycle()
                failures = 0
                delay = await self._idle_time()
            except Exception as exc:
                failures += 1
                delay = LOOP_ERROR_BACKOFF.delay(failures)
                if isinstance(exc, StoreError):  # the disk, not the code: no traceback
                    log.error("cycle failed (%s); retrying in %.0fs", exc, delay)
                else:
                    log.exception("cycle failed on a bug; retrying in %.0fs", delay)
            await self._idle(stop, delay)

    async def _idle(self, stop: asyncio.Event, delay: float) -> None:
        """Until ``stop``, a wake-up (work now) or ``delay`` seconds, whichever comes first."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self.wake.clear()

    async def _idle_time(self) -> float:
        """Until the next feed is due or the next alert is (a retry, the end of a mute, a digest)."""
        times = [await self.poller.next_due(time.time()), await self.delivery.next_due()]
        next_due = min((t for t in times if t is not None), default=None)
        if next_due is None:
            return IDLE_SLEEP_MAX
        return max(MIN_IDLE, min(IDLE_SLEEP_MAX, next_due - time.time()))
