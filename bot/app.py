"""Composition root: config in, a running bot out. Builds the store, sources, pipeline, delivery and
platform adapters; starts and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import time
from collections.abc import Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import Config, SummaryConfig
from bot.core.backoff import Backoff
from bot.core.errors import ConfigError, ConfigProblem, NewsBotError, StoreError
from bot.core.models import Article, ChannelRef
from bot.delivery.notify import NotifierRegistry
from bot.delivery.worker import DeliveryReport, DeliveryWorker, RetryPolicy
from bot.ingest.discover import FeedFinder
from bot.ingest.extract import ArticlePageFetcher
from bot.ingest.fetch import FileReader, HttpReader, ReaderRegistry
from bot.ingest.fulltext import FullText
from bot.ingest.policy import quiet_ids
from bot.ingest.poller import FeedPoller, PollPolicy
from bot.ingest.safety import UrlPolicy, guarded_session
from bot.ingest.websub import MemoryWebSubRegistry, WebSubError
from bot.ingest.websub_client import WebSubSubscriber
from bot.matching import AliasTable, default_aliases, heap
from bot.matching import build as matching_build
from bot.platforms import PlatformAdapter, PlatformContext, load_factory
from bot.processing.follow import SubscriptionFollower
from bot.processing.pipeline import CycleReport, Pipeline
from bot.processing.subscriptions import SubscriptionBook
from bot.store import open_store
from bot.store.base import Store
from bot.store.location import scheme, worker_name
from bot.stories import StoryDetector
from bot.summarise import Summariser
from bot.summarise.extractive import ExtractiveSummariser
from bot.summarise.llm import LlmSummariser, close_summariser
from bot.web.server import WebServer, create_web_app
from bot.web.websub import WebSubCallbacks

log = logging.getLogger(__name__)

IDLE_SLEEP_MAX = 30.0
SHUTDOWN_GRACE = 5.0
MIN_IDLE = 0.05
"""Between two cycles with work due at once: enough for the event loop to serve commands and pushes."""
LOOP_ERROR_BACKOFF = Backoff(base=2.0, cap=60.0, jitter=0.0)


def build_aliases(config: Config) -> AliasTable:
    groups = [list(g) for g in config.matching.aliases]
    if config.matching.default_aliases:
        return default_aliases().extended(groups)
    return AliasTable.from_groups(groups)


def build_summariser(
    config: SummaryConfig, session: aiohttp.ClientSession | None, env: Mapping[str, str]
) -> Summariser:
    """The configured summariser: extractive, or (``llm.enabled``) an :class:`LlmSummariser` falling back
    to it. ``session`` is for the LLM requests; ``None`` lets the summariser own one (close it with
    :func:`close_summariser`). The API key is read from ``env[llm.api_key_env]``. Raises
    :class:`ConfigError` for a missing key or a base URL that is not http(s)."""
    extractive = ExtractiveSummariser(max_sentences=config.max_sentences, max_chars=config.max_chars)
    llm = config.llm
    if not llm.enabled:
        return extractive
    api_key = env.get(llm.api_key_env, "").strip()
    if not api_key:
        raise ConfigError(
            [ConfigProblem("summary.llm.api_key_env", f"environment variable {llm.api_key_env} is not set")]
        )
    try:
        summariser = LlmSummariser(
            session,
            llm.base_url,
            llm.model,
            api_key,
            llm.timeout,
            llm.max_input_chars,
            config.max_chars,
            extractive,
        )
    except ValueError as exc:
        raise ConfigError([ConfigProblem("summary.llm.base_url", str(exc))]) from exc
    if summariser.url.scheme == "http" and not _is_loopback(summariser.url.host or ""):
        log.warning(
            "summary.llm.base_url is plain http: the API key is sent to %s unencrypted", summariser.url.host
        )
    log.info("llm summaries from %s (model %s); extractive summary on any failure", summariser.url, llm.model)
    return summariser


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _report_failures(report: CycleReport, where: str) -> None:
    if report.failed:
        log.error(
            "%s: %d of %d new articles could not be processed (a bug: see the errors above); they are "
            "recorded as seen and will not alert",
            where,
            report.failed,
            report.new,
        )


def _http_reader(config: Config, session: aiohttp.ClientSession, *, timeout: float) -> HttpReader:
    """Feeds are fetched with the polling limits: by the poller, and for ``/news feeds add``."""
    return HttpReader(
        session,
        timeout=timeout,
        max_body_bytes=config.polling.max_body_bytes,
        user_agent=config.polling.user_agent,
        per_host=config.polling.per_host,
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
        http = _http_reader(config, session, timeout=config.polling.timeout)
        readers = ReaderRegistry({"file": FileReader(config.resolve(".")), "http": http, "https": http})
        self.poller = FeedPoller(
            store,
            readers,
            PollPolicy(
                interval=config.polling.interval,
                min_interval=config.polling.min_interval,
                max_interval=config.polling.max_interval,
                max_backoff=config.polling.max_backoff,
                concurrency=config.polling.concurrency,
                max_age=config.polling.max_age,
                notify_after=config.feed_health.notify_after,
                pause_after=config.feed_health.pause_after,
            ),
            owner=self.worker,
            lease=config.store.lease,
        )
        full_text = None
        if config.extraction.enabled:
            pages = ArticlePageFetcher(
                session,
                timeout=config.extraction.timeout,
                max_body_bytes=config.polling.max_body_bytes,
                user_agent=config.polling.user_agent,
            )
            full_text = FullText(pages, min_chars=config.extraction.min_body_chars)
        self.pipeline = Pipeline(
            store,
            book,
            summariser,
            full_text=full_text,
            stories=StoryDetector(config.stories.window, config.stories.join),
            shared=scheme(config.store_location()) != "sqlite",
        )
        self.delivery = DeliveryWorker(
            store,
            self.notifiers,
            RetryPolicy(
                give_up_after=config.delivery.give_up_after,
                base=config.delivery.retry_base,
                cap=config.delivery.retry_max,
            ),
            batch=config.delivery.batch,
            channel_rate=config.delivery.channel_rate,
            paced={name for name, section in config.platforms.sections() if section.paced},
            owner=self.worker,
            lease=config.store.lease,
        )
        self._processing = asyncio.Lock()
        self.websub_registry = MemoryWebSubRegistry()
        self.websub: WebSubSubscriber | None = None
        self.web: WebServer | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.follower = SubscriptionFollower(store, book)

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
            finder = FeedFinder(_http_reader(config, session, timeout=min(config.polling.timeout, 10.0)))
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
        for subscription in await self.store.list_subscriptions():
            self.book.add(subscription)
        self.book.compact()
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
        )
        self.web = WebServer(app)
        await self.web.start(web_config.host, web_config.port)
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
            async with self._processing:
                report = await self.pipeline.process(polled.articles, polled.quiet)
            await self.pipeline.notify(polled.notices)
            totals = totals + report
        report = totals
        if self.websub is not None:
            await self.websub.renew_due()
        delivered = await self.delivery.deliver_due()
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
